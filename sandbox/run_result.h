// What one sandboxed run produced, independent of how it was recorded.
#pragma once

#include <cstdint>
#include <string>

namespace jobtape::sandbox {

// Mirrors schema::Outcome in recorder/events/events.capnp (same order).
enum class Outcome {
  exited,
  signaled,
  timedOut,
  setupFailed,
  commandNotFound,
  notExecutable,
  seccompViolation,
  cancelled,
};

const char* outcomeName(Outcome outcome);  // "exited", "timed-out", ...

struct ResourceUsage {
  uint64_t userCpuNs = 0;
  uint64_t systemCpuNs = 0;
  uint64_t maxRssBytes = 0;
  uint64_t minorFaults = 0;
  uint64_t majorFaults = 0;
  uint64_t inBlocks = 0;
  uint64_t outBlocks = 0;
  uint64_t voluntarySwitches = 0;
  uint64_t involuntarySwitches = 0;
};

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
