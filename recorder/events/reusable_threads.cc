#include "recorder/events/reusable_threads.h"

#include <unistd.h>

#include <thread>
#include <utility>

namespace jobtape::recorder {

ReusableThreads& ReusableThreads::shared() {
  static ReusableThreads* threads = new ReusableThreads;  // never destroyed (see the header)
  return *threads;
}

ReusableThreads::Pool& ReusableThreads::pool() {
  const pid_t self = ::getpid();
  Pool* current = pool_.load(std::memory_order_acquire);
  while (current == nullptr || current->owner != self) {
    // Never freed: a forked child's copy of its parent's pool may have its
    // lock held, and no thread of ours ever uses it again.
    auto* made = new Pool(self);
    if (pool_.compare_exchange_strong(current, made, std::memory_order_acq_rel)) return *made;
    delete made;  // another thread of this process made one first; `current` is it now
  }
  return *current;
}

std::future<void> ReusableThreads::run(std::function<void()> task) {
  Pool& p = pool();
  std::packaged_task<void()> packaged(std::move(task));
  std::future<void> done = packaged.get_future();
  std::unique_lock lock(p.mutex);
  p.tasks.push_back(std::move(packaged));
  if (p.tasks.size() <= p.idle) {
    lock.unlock();
    p.work.notify_one();
    return done;
  }
  try {
    std::thread([&p] { serve(p); }).detach();
  } catch (...) {
    p.tasks.pop_back();  // nobody will run it
    throw;
  }
  return done;
}

size_t ReusableThreads::idleThreads() {
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  return p.idle;
}

void ReusableThreads::serve(Pool& p) noexcept {
  std::unique_lock lock(p.mutex);
  for (;;) {
    if (p.tasks.empty()) {
      if (p.idle >= kMaxIdleThreads) return;
      ++p.idle;
      p.work.wait(lock, [&] { return !p.tasks.empty(); });
      --p.idle;
    }
    std::packaged_task<void()> task = std::move(p.tasks.front());
    p.tasks.pop_front();
    lock.unlock();
    task();  // an exception goes into the future
    lock.lock();
  }
}

}  // namespace jobtape::recorder
