// One store shared by every thread of a Recorder: its builds, their jobs and
// the jobs' heartbeat. Calls are short SQLite statements; a mutex
// serializes them so the Store implementation need not be thread-safe.
#pragma once

#include <sys/types.h>

#include <future>
#include <memory>
#include <mutex>
#include <utility>

#include <jobtape/recorder.h>

#include "recorder/job_heartbeat.h"
#include "store/store.h"

namespace jobtape::recorder {

class LockedStore {
 public:
  explicit LockedStore(std::unique_ptr<store::Store> store) : store_(std::move(store)), heartbeat_(*this) {}
  ~LockedStore();  // waits for a checkpoint still running
  LockedStore(const LockedStore&) = delete;
  LockedStore& operator=(const LockedStore&) = delete;

  // Runs `action(store::Store&)` under the lock. Store exceptions become
  // jobtape::Error (Kind::store); the lock is released either way.
  template <typename Action>
  auto with(Action&& action) -> decltype(action(std::declval<store::Store&>())) {
    std::lock_guard lock(mutex_);
    return guarded([&] { return action(*store_); });
  }

  const std::filesystem::path& home() const { return store_->home(); }
  std::filesystem::path jobDir(const std::string& jobId) const { return store_->jobDir(jobId); }
  // The one heartbeat of every job recorded through this store.
  JobHeartbeat& heartbeat() { return heartbeat_; }

  // Makes the store's WAL checkpoint when one is due (store::Store::
  // checkpointDue), on a pool thread: called once a job's row is written,
  // so that its two fdatasyncs pass while the job runs instead of inside a
  // commit someone waits for. One at a time; one that fails is tried again
  // at a later job.
  void checkpointInBackground() noexcept;

 private:
  template <typename Body>
  static auto guarded(Body&& body) -> decltype(body());

  std::mutex mutex_;
  std::unique_ptr<store::Store> store_;
  std::mutex checkpointMutex_;
  std::future<void> checkpoint_;  // the latest background checkpoint
  pid_t checkpointStartedBy_ = 0;  // a forked child has no thread to wait for
  JobHeartbeat heartbeat_;  // last: its thread stops before the store closes
};

// Rethrows the current store exception as jobtape::Error (Kind::store); an
// unsafe home as HomeError (<jobtape/inspect.h>), with its fix.
[[noreturn]] void rethrowAsStoreError();

// What went wrong in words for people ("database or disk is full"): the
// SQLite reason of a store error, without its SQL; else what() itself.
std::string plainStoreFailure(const Error& error);

template <typename Body>
auto LockedStore::guarded(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (...) {
    rethrowAsStoreError();
  }
}

}  // namespace jobtape::recorder
