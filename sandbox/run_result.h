// What one sandboxed run produced, independent of how it was recorded.
#pragma once

#include <cstdint>
#include <jobtape/outcome.h>
#include <string>

namespace jobtape::sandbox {

// The public vocabulary (<jobtape/outcome.h>): the sandbox produces what the
// events file, the store and the API say, with nothing to convert.
using jobtape::Outcome;
using jobtape::outcomeName;
using jobtape::ResourceUsage;

struct RunResult {
  Outcome outcome = Outcome::exited;
  int exitCode = 0;  // the status `jobtape run` exits with: N, 128+signal, 124 timeout, 126/127
  int signal = 0;    // terminating signal, 0 if none
  std::string setupStep;         // with setupFailed: e.g. "pivot_root"
  int setupErrno = 0;            // with setupFailed
  std::string violatingSyscall;  // with seccompViolation: e.g. "ptrace"
  std::string message;           // one line for humans
  ResourceUsage rusage;          // whole tree
  uint64_t wallNs = 0;

  bool succeeded() const { return outcome == Outcome::exited && exitCode == 0; }
};

}  // namespace jobtape::sandbox
