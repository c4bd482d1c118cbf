// Runs one recipe as one recorded job, from the store row to the kept state:
//
//   new job id -> job dir -> jobs row -> events file (description frame)
//   -> sandbox::run (output/exec/exit events, live callback, pid, heartbeats)
//   -> jobFinished event -> state kept or removed -> row finished.
//
// Everything that can go wrong before the sandbox starts is a jobtape::Error;
// once the row exists, the row is always finished, whatever happens.
#pragma once

#include <cstdint>
#include <string>

#include <jobtape/recorder.h>

#include "recorder/recorder_store.h"

namespace jobtape::recorder {

struct JobPlacement {
  std::string buildId;
  int64_t projectId = 0;
  std::string host;
  std::string projectHash;  // whose kept home layer the job's home overlay uses
};

JobResult runJob(LockedStore& store, const JobPlacement& placement, const Recipe& recipe,
                 const JobOptions& options);

}  // namespace jobtape::recorder
