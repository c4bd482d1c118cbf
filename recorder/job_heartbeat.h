// The heartbeat of a Recorder's running jobs, so that readers can tell a
// live job from one whose recorder died (store/lease.h): one thread for all
// of them refreshes their rows, and their builds', in one transaction every
// interval. It starts with the first job and sleeps while none runs.
//
// Cancellation is not its business: the supervisor of each job polls the
// caller's CancelToken itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace jobtape::recorder {

class LockedStore;

class JobHeartbeat {
 public:
  explicit JobHeartbeat(LockedStore& store, std::chrono::milliseconds interval = std::chrono::seconds(2));
  ~JobHeartbeat();  // stops and joins the thread
  JobHeartbeat(const JobHeartbeat&) = delete;
  JobHeartbeat& operator=(const JobHeartbeat&) = delete;

  // Beats for one job while it lives.
  class Beating {
   public:
    Beating(Beating&& other) noexcept : heartbeat_(std::exchange(other.heartbeat_, nullptr)), jobId_(other.jobId_) {}
    Beating(const Beating&) = delete;
    Beating& operator=(const Beating&) = delete;
    Beating& operator=(Beating&&) = delete;
    ~Beating() {
      if (heartbeat_) heartbeat_->forget(jobId_);
    }

   private:
    friend class JobHeartbeat;
    Beating(JobHeartbeat& heartbeat, std::string jobId) : heartbeat_(&heartbeat), jobId_(std::move(jobId)) {}
    JobHeartbeat* heartbeat_;
    std::string jobId_;
  };

  [[nodiscard]] Beating keep(std::string jobId);

 private:
  void forget(const std::string& jobId) noexcept;
  void loop() noexcept;

  LockedStore& store_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::string> jobs_;  // running, in the order they started
  bool stopping_ = false;
  std::thread thread_;  // started by the first keep()
};

}  // namespace jobtape::recorder
