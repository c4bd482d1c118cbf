// What `jobtape run` and `job retry` say after a failed job: the commands
// that failed, with the last lines of their output (<jobtape/what_failed.h>),
// where to look next, and the hint line.
#pragma once

#include <string>
#include <vector>

#include <jobtape/recorder.h>

#include "cli/cli_context.h"

namespace jobtape::cli {

struct FailedJob {
  const JobResult* result = nullptr;
  std::string shortId;
  // Its output said "Read-only file system" (EROFS): it wrote outside what
  // the sandbox lets it write.
  bool metReadOnly = false;
};

// On stderr, for each failed job: what failed (at most about 15 lines for
// all of them together; jobs past the third get their hint line only), then
// its hint line (failureHintLine). `withSelector`: the commands it suggests
// name the job (several jobs ran).
void printFailedJobs(const CliContext& context, const std::vector<FailedJob>& jobs, bool withSelector);

}  // namespace jobtape::cli
