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
// static destructor ever joins a thread that runs a task. A forked child has
// none of its parent's threads: the first run() in another process than the
// pool's starts a pool of its own (the parent's is left as it was, its lock
// possibly held by a thread that is not there). No pthread_atfork handler:
// the sandbox's pid 1 is a clone of this process that may fork, and nothing
// but async-signal-safe code may run there.
#pragma once

#include <sys/types.h>

#include <atomic>
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

  // Threads waiting for a task now, in this process (tests).
  size_t idleThreads();

 private:
  // What the threads of one process share.
  struct Pool {
    explicit Pool(pid_t owner) : owner(owner) {}
    const pid_t owner;
    std::mutex mutex;
    std::condition_variable work;
    std::deque<std::packaged_task<void()>> tasks;
    size_t idle = 0;  // threads waiting in serve()
  };

  ReusableThreads() = default;
  Pool& pool();  // this process's
  static void serve(Pool& pool) noexcept;

  std::atomic<Pool*> pool_{nullptr};
};

}  // namespace jobtape::recorder
