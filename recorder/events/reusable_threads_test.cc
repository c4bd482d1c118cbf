#include "recorder/events/reusable_threads.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace jobtape::recorder {
namespace {

using namespace std::chrono_literals;

// Waits until `ready` holds, for at most 10 s (a test that fails, not one
// that hangs).
template <typename Ready>
bool eventually(Ready ready) {
  for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
    if (ready()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return ready();
}

TEST(ReusableThreads, ATaskRunsOnAnotherThreadAndItsEndIsTheFutures) {
  std::thread::id ran;
  auto done = ReusableThreads::shared().run([&] { ran = std::this_thread::get_id(); });
  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  done.get();
  EXPECT_NE(ran, std::this_thread::get_id());

  auto failed = ReusableThreads::shared().run([] { throw std::runtime_error("the task's own"); });
  ASSERT_EQ(failed.wait_for(10s), std::future_status::ready);
  EXPECT_THROW(failed.get(), std::runtime_error);
}

// In a child of its own, where the pool starts empty: the tests before this
// one leave an unknown number of threads, some of them perhaps between a
// task's end and their wait, and any of them may take the next task.
TEST(ReusableThreads, TheThreadOfAFinishedTaskRunsTheNext) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::thread::id first;
    std::thread::id second;
    ReusableThreads::shared().run([&] { first = std::this_thread::get_id(); }).get();
    // The only thread waits for work once it has counted itself idle.
    if (!eventually([] { return ReusableThreads::shared().idleThreads() == 1; })) ::_exit(3);
    ReusableThreads::shared().run([&] { second = std::this_thread::get_id(); }).get();
    if (first != second) ::_exit(4);
    if (!eventually([] { return ReusableThreads::shared().idleThreads() == 1; })) ::_exit(5);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "3: the first task's thread never waited; 4: a new thread ran the second task; 5: it never waited again";
}

// Tasks that only end together: each must get a thread of its own, or they
// never end. Afterwards no more than kMaxIdleThreads stay.
TEST(ReusableThreads, TasksAtOnceEachGetAThreadAndAtMostSomeWaitAfterwards) {
  constexpr int kTasks = static_cast<int>(ReusableThreads::kMaxIdleThreads) + 8;
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  std::vector<std::future<void>> done;
  for (int i = 0; i < kTasks; ++i) {
    done.push_back(ReusableThreads::shared().run([&] {
      ++started;
      while (!release) std::this_thread::sleep_for(1ms);
    }));
  }
  EXPECT_TRUE(eventually([&] { return started == kTasks; })) << started << " of " << kTasks << " started";
  release = true;
  for (auto& f : done) ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(eventually([] { return ReusableThreads::shared().idleThreads() == ReusableThreads::kMaxIdleThreads; }))
      << ReusableThreads::shared().idleThreads() << " wait";
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ReusableThreads::shared().idleThreads(), ReusableThreads::kMaxIdleThreads);
}

// An embedding program that forks after jobs ran: the child has none of the
// waiting threads, and its tasks still run.
TEST(ReusableThreads, AForkedChildRunsItsTasksOnThreadsOfItsOwn) {
  ReusableThreads::shared().run([] {}).get();
  ASSERT_TRUE(eventually([] { return ReusableThreads::shared().idleThreads() > 0; }));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = ReusableThreads::shared().idleThreads() == 0 ? 0 : 3;
    bool ran = false;
    auto done = ReusableThreads::shared().run([&] { ran = true; });
    if (done.wait_for(5s) != std::future_status::ready || !ran) code = 4;
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: the child counted the parent's threads; 4: its task never ran";
}

}  // namespace
}  // namespace jobtape::recorder
