// Writing a job's output through to our own stdout or stderr as it arrives.
#pragma once

#include <string_view>

namespace jobtape::cli {

// Writes all of `bytes` to `fd`, again after EINTR. False when `fd` takes
// no more: errno is then EPIPE for a reader that went away, 0 when a write
// wrote nothing.
bool writeAll(int fd, std::string_view bytes);

}  // namespace jobtape::cli
