// The plain C++ types of one job's events, shared by the writer, the reader
// and the codec between them and the schema (events.capnp): the writer takes
// them, the codec turns them into messages and back, the reader hands them
// out. Nothing here knows Cap'n Proto or a file.
#pragma once

#include <cstdint>
#include <string>

#include "sandbox/recipe.h"
#include "sandbox/run_result.h"
#include "sandbox/runner.h"

namespace jobtape::recorder {

// What frame 1 (jobStarted) says of the job.
struct JobDescription {
  std::string jobId;
  std::string buildId;
  sandbox::Recipe recipe;
  std::string recipeHash;
  std::string host;
  int64_t startedAtUnixNs = 0;
  bool sandboxed = true;
  std::string stateDir;
  std::string kernel;
  uint32_t callerUid = 0;
  uint32_t callerGid = 0;
  bool terminal = false;  // stdout and stderr on terminals of the job's own
};

// Plain C++ view of one decoded event (copied out of the Cap'n Proto message).
struct OutputEvent {
  sandbox::Stream stream;
  uint64_t elapsedNs;
  std::string bytes;
};
struct ExecEvent {
  sandbox::ExecRecord record;
  bool spawned = false;  // the job's main process rather than an exec seen later
};
struct ProcessExitEvent {
  sandbox::ProcessExitRecord record;
  sandbox::ResourceUsage rusage;
};
struct JobFinishedEvent {
  sandbox::RunResult result;  // outcome, codes, rusage, wallNs = elapsedNs
  std::string resultName;      // "succeeded" | "failed" | "abandoned"
};

struct Event {
  enum class Kind { jobStarted, exec, output, processExit, jobFinished, tracingIncomplete, unknown };
  Kind kind = Kind::unknown;
  JobDescription started;      // kind == jobStarted
  ExecEvent exec;              // kind == exec
  OutputEvent output;          // kind == output
  ProcessExitEvent processExit;  // kind == processExit
  JobFinishedEvent finished;   // kind == jobFinished
  sandbox::TracingShortfall tracingIncomplete;  // kind == tracingIncomplete
};

// Where and why reading stopped early.
struct Damage {
  uint64_t offset = 0;  // byte offset in the compressed file of the first unreadable byte
  std::string reason;   // one line
};

}  // namespace jobtape::recorder
