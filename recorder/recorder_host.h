// Facts about the machine a job runs on, for its events file and its build.
#pragma once

#include <cstdint>
#include <string>

namespace jobtape::recorder {

std::string hostName();       // gethostname(), "" if unknown
std::string kernelRelease();  // uname -r, "" if unknown

}  // namespace jobtape::recorder
