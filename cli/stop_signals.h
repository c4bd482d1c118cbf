// The signals a command that runs a job (`run`, `job retry`, `job
// debug-shell`) answers while the job runs.
#pragma once

#include <signal.h>

#include <jobtape/recorder.h>
#include <utility>
#include <vector>

namespace jobtape::cli {

// SIGINT, SIGTERM and SIGHUP stop the job's whole tree through `token`; a
// closed stdout (SIGPIPE) becomes EPIPE for our own writes instead of
// killing us, and, unlike SIG_IGN, is reset to the default in what the job
// execs. One scope at a time; the previous dispositions come back at its end.
class StopSignals {
 public:
  explicit StopSignals(CancelToken& token);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  std::vector<std::pair<int, struct sigaction>> previous_;
};

}  // namespace jobtape::cli
