#include "recorder/job_heartbeat.h"

#include <algorithm>

#include "recorder/recorder_store.h"

namespace jobtape::recorder {

JobHeartbeat::JobHeartbeat(LockedStore& store, std::chrono::milliseconds interval)
    : store_(store), interval_(interval) {}

JobHeartbeat::~JobHeartbeat() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

JobHeartbeat::Beating JobHeartbeat::keep(std::string jobId) {
  std::lock_guard lock(mutex_);
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  jobs_.push_back(jobId);
  return Beating(*this, std::move(jobId));
}

void JobHeartbeat::forget(const std::string& jobId) noexcept {
  std::lock_guard lock(mutex_);
  auto at = std::find(jobs_.begin(), jobs_.end(), jobId);
  if (at != jobs_.end()) jobs_.erase(at);
}

void JobHeartbeat::loop() noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    // Asleep while no job runs; a job's row has a fresh heartbeat when it
    // begins, so its first beat is due an interval later.
    wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    if (wake_.wait_for(lock, interval_, [&] { return stopping_; })) return;
    std::vector<std::string> beating = jobs_;
    if (beating.empty()) continue;
    lock.unlock();
    try {
      store_.with([&](store::Store& store) { store.heartbeat(beating); });
    } catch (...) {
      // A busy or failing store must not stop the jobs; the next beat retries.
    }
    lock.lock();
  }
}

}  // namespace jobtape::recorder
