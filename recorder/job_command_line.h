// One-line, copy-pasteable renderings of a command for listings and rows:
// shellQuote and displayCommand of <jobtape/text.h>, defined in
// job_command_line.cc.
#pragma once

#include <jobtape/text.h>

namespace jobtape::recorder {

using jobtape::displayCommand;
using jobtape::shellQuote;

}  // namespace jobtape::recorder
