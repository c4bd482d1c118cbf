// Watches one running job from a thread of its own: refreshes the job's
// heartbeat so readers can tell a live job from one whose recorder died, and
// forwards a CancelToken's request to the job's own sandbox Cancellation.
//
// Why a thread: the job's thread is inside sandbox::run() for the whole job,
// and a CancelToken may be shared by many jobs while each sandbox::run needs
// its own Cancellation.
#pragma once

#include <chrono>
#include <string>
#include <thread>

#include <jobtape/recorder.h>

#include "recorder/recorder_store.h"
#include "sandbox/runner.h"

namespace jobtape::recorder {

class JobWatcher {
 public:
  // Starts watching at once. `token` may be null; `cancellation` must
  // outlive the watcher.
  JobWatcher(LockedStore& store, std::string jobId, const CancelToken* token,
             sandbox::Cancellation& cancellation,
             std::chrono::milliseconds heartbeatInterval = std::chrono::seconds(2));
  ~JobWatcher();  // stops and joins
  JobWatcher(const JobWatcher&) = delete;
  JobWatcher& operator=(const JobWatcher&) = delete;

  void stop() noexcept;

 private:
  void loop() noexcept;

  LockedStore& store_;
  std::string jobId_;
  const CancelToken* token_;
  sandbox::Cancellation& cancellation_;
  std::chrono::milliseconds interval_;
  int stopFd_ = -1;  // eventfd, O_CLOEXEC
  std::thread thread_;
};

}  // namespace jobtape::recorder
