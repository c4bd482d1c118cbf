// Threads that outlive the tasks they run, for work that comes and goes with
// every job (an events file's writer thread).
//
// Creating and joining a thread for each job cost 130-160 us on a 2-cpu VM
// (a loop of std::thread create + join): the clone, the faults of a fresh
// stack, and at exit the stack's MADV_DONTNEED with its TLB shootdown on
// every cpu the process runs on -- a recorded `true` is about 5 ms. Here a
// thread whose task returned waits for the next one; at most kMaxIdleThreads
// wait, and the others end.
//
// The pool is never destroyed: waiting threads end with the process, so no
// static destructor ever joins a thread that runs a task. A child that
// fork() made starts with an empty pool (pthread_atfork): the parent's
// threads are not in it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>

namespace jobtape::recorder {

class ReusableThreads {
 public:
  static constexpr size_t kMaxIdleThreads = 16;

  // The one pool of the process.
  static ReusableThreads& shared();

  // Runs `task` on a waiting thread, or on a new one when none waits. The
  // future is ready once `task` returned (or threw: get() rethrows); until
  // then whatever `task` uses must live. Throws std::system_error when no
  // thread can be made.
  std::future<void> run(std::function<void()> task);

  // Threads waiting for a task now (tests).
  size_t idleThreads();

 private:
  ReusableThreads() = default;
  void serve() noexcept;
  void forgetThreadsInChild() noexcept;

  std::mutex mutex_;
  std::condition_variable work_;
  std::deque<std::packaged_task<void()>> tasks_;
  size_t idle_ = 0;  // threads waiting in serve()
};

}  // namespace jobtape::recorder
