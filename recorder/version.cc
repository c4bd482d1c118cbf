#include <jobtape/recorder.h>

namespace jobtape {

const char* version() noexcept { return JOBTAPE_VERSION; }

}  // namespace jobtape
