// Runs programs for the view tests and reads their exit status reliably.
//
// Same contract as runProgram/runJobtape in tests/common/jobtape_process.h;
// the difference is the end: the child's pipes reach end-of-file while it is
// still exiting, and only a passed deadline (not a child that is not reaped
// yet) means it hangs and is killed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/common/jobtape_process.h"

namespace jobtape::testing::view {

ProcessResult runProgram(const std::vector<std::string>& argv, const ProcessOptions& options = {});
ProcessResult runJobtape(const std::filesystem::path& home, const std::vector<std::string>& args,
                         ProcessOptions options = {});

}  // namespace jobtape::testing::view
