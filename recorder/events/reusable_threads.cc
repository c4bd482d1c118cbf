#include "recorder/events/reusable_threads.h"

#include <pthread.h>

#include <new>
#include <thread>
#include <utility>

namespace jobtape::recorder {

ReusableThreads& ReusableThreads::shared() {
  static ReusableThreads* pool = [] {
    auto* made = new ReusableThreads;  // never destroyed (see the header)
    ::pthread_atfork([] { shared().mutex_.lock(); }, [] { shared().mutex_.unlock(); },
                     [] { shared().forgetThreadsInChild(); });
    return made;
  }();
  return *pool;
}

// A forked child has none of the parent's threads: none of them waits for
// its tasks, and the tasks queued for them are the parent's. The lock taken
// before the fork is the child's to drop; the queue's memory is left as it
// is (its destructor would settle the parent's futures).
void ReusableThreads::forgetThreadsInChild() noexcept {
  new (&tasks_) std::deque<std::packaged_task<void()>>();
  idle_ = 0;
  new (&work_) std::condition_variable();
  mutex_.unlock();
}

std::future<void> ReusableThreads::run(std::function<void()> task) {
  std::packaged_task<void()> packaged(std::move(task));
  std::future<void> done = packaged.get_future();
  std::unique_lock lock(mutex_);
  tasks_.push_back(std::move(packaged));
  if (tasks_.size() <= idle_) {
    lock.unlock();
    work_.notify_one();
    return done;
  }
  try {
    std::thread([this] { serve(); }).detach();
  } catch (...) {
    tasks_.pop_back();  // nobody will run it
    throw;
  }
  return done;
}

size_t ReusableThreads::idleThreads() {
  std::lock_guard lock(mutex_);
  return idle_;
}

void ReusableThreads::serve() noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (tasks_.empty()) {
      if (idle_ >= kMaxIdleThreads) return;
      ++idle_;
      work_.wait(lock, [&] { return !tasks_.empty(); });
      --idle_;
    }
    std::packaged_task<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();  // an exception goes into the future
    lock.lock();
  }
}

}  // namespace jobtape::recorder
