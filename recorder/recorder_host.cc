#include "recorder/recorder_host.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>

namespace jobtape::recorder {

std::string hostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

std::string kernelRelease() {
  struct utsname names {};
  if (::uname(&names) != 0) return {};
  return names.release;
}

}  // namespace jobtape::recorder
