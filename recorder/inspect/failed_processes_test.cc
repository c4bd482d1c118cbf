#include "recorder/inspect/failed_processes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <map>

namespace jobtape::recorder {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kMs = 1'000'000;

// A recorded job, told as its events: execs and exits in time order.
class Job {
 public:
  // The first exec is the job's main process.
  Job& exec(int32_t pid, int32_t ppid, uint64_t atMs, std::vector<std::string> argv, std::string cwd = "/src") {
    Event event;
    event.kind = Event::Kind::exec;
    event.exec.spawned = first_;
    first_ = false;
    std::string executable = argv.empty() ? std::string() : "/usr/bin/" + argv.front();
    event.exec.record = {atMs * kMs, pid, ppid, executable, std::move(argv), std::move(cwd)};
    builder_.add(event);
    return *this;
  }
  Job& exit(int32_t pid, uint64_t atMs, int code) { return end(pid, atMs, true, code, 0); }
  Job& killed(int32_t pid, uint64_t atMs, int signal) { return end(pid, atMs, true, -1, signal); }
  Job& unknownEnd(int32_t pid, uint64_t atMs) { return end(pid, atMs, false, -1, 0); }
  Job& finished(int exitCode, int signal = 0) {
    JobFinishedEvent event;
    event.result.outcome = signal ? sandbox::Outcome::signaled : sandbox::Outcome::exited;
    event.result.exitCode = signal ? 128 + signal : exitCode;
    event.result.signal = signal;
    event.result.wallNs = 10'000 * kMs;
    event.resultName = event.result.succeeded() ? "succeeded" : "failed";
    finished_ = event;
    return *this;
  }

  const ProcessTree& tree() const { return builder_.tree(); }
  const std::optional<JobFinishedEvent>& finishedEvent() const { return finished_; }
  std::vector<FailingChain> chains() const { return findFailingChains(tree(), finished_); }

  // The failing processes shown, by pid.
  std::vector<int32_t> failedPids() const {
    std::vector<int32_t> pids;
    for (const auto& chain : chains()) pids.push_back(tree().nodes[chain.node].pid);
    return pids;
  }

 private:
  Job& end(int32_t pid, uint64_t atMs, bool known, int code, int signal) {
    Event event;
    event.kind = Event::Kind::processExit;
    event.processExit.record = {atMs * kMs, pid, known, code, signal};
    builder_.add(event);
    return *this;
  }

  ProcessTreeBuilder builder_;
  std::optional<JobFinishedEvent> finished_;
  bool first_ = true;
};

TEST(FailingChains, ACompileErrorUnderNestedMakeIsTheCompilerCommand) {
  Job job;
  job.exec(2, 1, 0, {"make", "-j2"}, "/src")
      .exec(3, 2, 1, {"make", "-C", "lib"})
      .exec(4, 3, 2, {"cc", "-c", "a.c", "-o", "a.o"}, "/src/lib")
      .exec(5, 4, 3, {"/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "a.c"}, "/src/lib")
      .exit(5, 8, 0)
      .exec(6, 4, 9, {"as", "-o", "a.o"}, "/src/lib")
      .exit(6, 10, 0)
      .exit(4, 10, 0)
      .exit(3, 11, 0)
      .exec(7, 2, 12, {"make", "-C", "src"})
      .exec(8, 7, 13, {"cc", "-c", "main.c", "-o", "main.o"}, "/src/src")
      .exec(9, 7, 13, {"cc", "-c", "bad.c", "-o", "bad.o"}, "/src/src")
      .exec(10, 9, 14, {"/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "bad.c"}, "/src/src")
      .exit(10, 16, 1)
      .exit(9, 16, 1)
      .exit(8, 20, 0)
      .exit(7, 21, 2)
      .exit(2, 22, 2)
      .finished(2);
  auto chains = job.chains();
  ASSERT_EQ(chains.size(), 1u);
  const ProcessTree& tree = job.tree();
  EXPECT_EQ(tree.nodes[chains[0].node].pid, 9);
  std::vector<int32_t> chain;
  for (size_t node : chains[0].chain) chain.push_back(tree.nodes[node].pid);
  EXPECT_THAT(chain, ElementsAre(2, 7, 9));
  ASSERT_EQ(chains[0].helpers.size(), 1u);
  EXPECT_EQ(tree.nodes[chains[0].helpers[0]].pid, 10);
}

TEST(FailingChains, NinjaUnderCmakeBuildThroughAShellWrapper) {
  Job job;
  job.exec(2, 1, 0, {"sh", "-c", "cmake --build build"})
      .exec(3, 2, 1, {"cmake", "--build", "build"})
      .exec(4, 3, 2, {"ninja"})
      .exec(5, 4, 3, {"/bin/sh", "-c", "/usr/bin/c++ -c /src/bad.cc -o bad.o"})
      .exec(6, 5, 4, {"/usr/bin/c++", "-c", "/src/bad.cc", "-o", "bad.o"})
      .exec(7, 6, 5, {"/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", "/src/bad.cc"})
      .exit(7, 9, 1)
      .exit(6, 9, 1)
      .exit(5, 9, 1)
      .exit(4, 10, 1)
      .exit(3, 10, 1)
      .exit(2, 10, 1)
      .finished(1);
  EXPECT_THAT(job.failedPids(), ElementsAre(6));
}

TEST(FailingChains, AShellThatExecsTheCompilerIsTheCompiler) {
  Job job;
  job.exec(2, 1, 0, {"ninja"}).exec(3, 2, 1, {"sh", "-c", "exec cc -c bad.c"}).exec(3, 2, 2, {"cc", "-c", "bad.c"});
  job.exec(4, 3, 3, {"cc1", "bad.c"}).exit(4, 5, 1).exit(3, 5, 1).exit(2, 6, 1).finished(1);
  auto chains = job.chains();
  ASSERT_EQ(chains.size(), 1u);
  const ProcessNode& node = job.tree().nodes[chains[0].node];
  EXPECT_EQ(node.pid, 3);
  EXPECT_EQ(node.images.back().argv.front(), "cc");
}

TEST(FailingChains, EveryFailureOfMakeKeepGoingInTheOrderTheyStarted) {
  Job job;
  job.exec(2, 1, 0, {"make", "-k"})
      .exec(3, 2, 1, {"cc", "-c", "one.c"})
      .exit(3, 2, 1)
      .exec(4, 2, 3, {"cc", "-c", "fine.c"})
      .exit(4, 4, 0)
      .exec(5, 2, 5, {"cc", "-c", "two.c"})
      .exit(5, 6, 1)
      .exit(2, 7, 2)
      .finished(2);
  EXPECT_THAT(job.failedPids(), ElementsAre(3, 5));
}

TEST(FailingChains, AShellWithSetEStopsAtTheFailingCommand) {
  Job job;
  job.exec(2, 1, 0, {"sh", "-ec", "cc -c a.c; cc -c b.c; cc -o app a.o b.o"})
      .exec(3, 2, 1, {"cc", "-c", "a.c"})
      .exit(3, 2, 0)
      .exec(4, 2, 3, {"cc", "-c", "b.c"})
      .exit(4, 4, 1)
      .exit(2, 4, 1)
      .finished(1);
  EXPECT_THAT(job.failedPids(), ElementsAre(4));
}

TEST(FailingChains, AToleratedFailureIsNotTheCauseOfAShellsOwnFailure) {
  // if grep -q needle file; then ...; fi; exit 3
  Job job;
  job.exec(2, 1, 0, {"sh", "-c", "if grep -q needle file; then :; fi; exit 3"})
      .exec(3, 2, 1, {"grep", "-q", "needle", "file"})
      .exit(3, 2, 1)
      .exit(2, 3, 3)
      .finished(3);
  EXPECT_THAT(job.failedPids(), ElementsAre(2));
}

TEST(FailingChains, AFailureTheParentWentOnAfterIsNotItsCause) {
  // cmake configuring: a try-compile fails, more checks run, then cmake
  // fails on an error of its own.
  Job job;
  job.exec(2, 1, 0, {"cmake", "-S", ".", "-B", "build"})
      .exec(3, 2, 1, {"ninja", "cmTC_1"})
      .exec(4, 3, 2, {"cc", "-c", "check.c"})
      .exit(4, 3, 1)
      .exit(3, 3, 1)
      .exec(5, 2, 4, {"ninja", "cmTC_2"})
      .exit(5, 5, 0)
      .exit(2, 9, 1)
      .finished(1);
  EXPECT_THAT(job.failedPids(), ElementsAre(2));
}

TEST(FailingChains, AShellReportingASignalPassesItsChildOn) {
  Job job;
  job.exec(2, 1, 0, {"sh", "-c", "./unit_test"}).exec(3, 2, 1, {"./unit_test"});
  job.killed(3, 2, SIGSEGV).exit(2, 3, 128 + SIGSEGV).finished(128 + SIGSEGV);
  EXPECT_THAT(job.failedPids(), ElementsAre(3));
}

TEST(FailingChains, ADifferentStatusIsTheShellsOwn) {
  Job job;
  job.exec(2, 1, 0, {"sh", "-c", "cc -c a.c || exit 4"}).exec(3, 2, 1, {"cc", "-c", "a.c"});
  job.exit(3, 2, 1).exit(2, 3, 4).finished(4);
  EXPECT_THAT(job.failedPids(), ElementsAre(2));
}

TEST(FailingChains, ATimeoutIsWhatWasRunningWhenTheTreeWasKilled) {
  Job job;
  job.exec(2, 1, 0, {"make"})
      .exec(3, 2, 1, {"sh", "-c", "sleep 100"})
      .exec(4, 3, 2, {"sleep", "100"})
      .killed(4, 1000, SIGTERM)
      .killed(3, 1000, SIGTERM)
      .killed(2, 1000, SIGTERM)
      .finished(0, SIGTERM);
  EXPECT_THAT(job.failedPids(), ElementsAre(4));
}

TEST(FailingChains, ATestBinaryRunByCtest) {
  Job job;
  job.exec(2, 1, 0, {"ctest", "--output-on-failure"})
      .exec(3, 2, 1, {"/build/passing_test"})
      .exit(3, 2, 0)
      .exec(4, 2, 3, {"/build/failing_test"})
      .exit(4, 4, 1)
      .exec(5, 2, 5, {"/build/other_test"})
      .exit(5, 6, 0)
      .exit(2, 7, 8)
      .finished(8);
  EXPECT_THAT(job.failedPids(), ElementsAre(4));
}

TEST(FailingChains, AnUnknownCompilerKeepsItsHelpersFailure) {
  Job job;
  job.exec(2, 1, 0, {"make"}).exec(3, 2, 1, {"fancy-cc", "-c", "x.c"}).exec(4, 3, 2, {"cc1", "x.c"});
  job.exit(4, 3, 1).exit(3, 3, 1).exit(2, 4, 2).finished(2);
  EXPECT_THAT(job.failedPids(), ElementsAre(3));
}

TEST(FailingChains, AHelperMakeRanItselfIsTheCommand) {
  Job job;
  job.exec(2, 1, 0, {"make"}).exec(3, 2, 1, {"ld", "-o", "app", "main.o"}).exit(3, 2, 1).exit(2, 3, 2).finished(2);
  EXPECT_THAT(job.failedPids(), ElementsAre(3));
}

TEST(FailingChains, ALinkerRunByRustcIsRustcsHelper) {
  Job job;
  job.exec(2, 1, 0, {"cargo", "build"})
      .exec(3, 2, 1, {"rustc", "--crate-name", "app", "src/main.rs"})
      .exec(4, 3, 2, {"cc", "-o", "app", "app.o"})
      .exec(5, 4, 3, {"collect2", "-o", "app"})
      .exec(6, 5, 3, {"ld", "-o", "app"})
      .exit(6, 4, 1)
      .exit(5, 4, 1)
      .exit(4, 4, 1)
      .exit(3, 5, 1)
      .exit(2, 6, 101)
      .finished(101);
  auto chains = job.chains();
  ASSERT_EQ(chains.size(), 1u);
  EXPECT_EQ(job.tree().nodes[chains[0].node].pid, 3);
  EXPECT_EQ(chains[0].helpers.size(), 3u);
}

TEST(FailingChains, TheMainProcessWithoutAFollowedExitTakesTheJobsResult) {
  Job job;
  job.exec(2, 1, 0, {"make"}).exec(3, 2, 1, {"cc", "-c", "bad.c"}).exit(3, 2, 1).unknownEnd(2, 3).finished(2);
  EXPECT_THAT(job.failedPids(), ElementsAre(3));
  auto exit = knownExit(job.tree(), 0, job.finishedEvent());
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exitCode, 2);
  EXPECT_FALSE(knownExit(job.tree(), 0, std::nullopt));
  EXPECT_EQ(processesWithUnknownStatus(job.tree()), 1u);
}

TEST(FailingChains, ChildrenWithUnknownStatusLeaveTheFailureWithTheirParent) {
  // A kernel before 6.15: only the main process's status is known.
  Job job;
  job.exec(2, 1, 0, {"make"}).exec(3, 2, 1, {"cc", "-c", "bad.c"}).unknownEnd(3, 2).unknownEnd(2, 3).finished(2);
  EXPECT_THAT(job.failedPids(), ElementsAre(2));
}

TEST(FailingChains, NothingFailedInASucceededJob) {
  Job job;
  job.exec(2, 1, 0, {"sh", "-c", "grep -q x f || true"}).exec(3, 2, 1, {"grep", "-q", "x", "f"});
  job.exit(3, 2, 1).exit(2, 3, 0).finished(0);
  EXPECT_THAT(job.chains(), IsEmpty());
}

TEST(FailingChains, OrphanedRootsAreNotTheJobsMainProcess) {
  // A process whose parent never exec'd starts a root of its own; only the
  // job's main process starts a walk.
  Job job;
  job.exec(2, 1, 0, {"sh", "-c", "(false_thing) ; exit 1"}).exec(9, 8, 1, {"false_thing"});
  job.exit(9, 2, 1).exit(2, 3, 1).finished(1);
  EXPECT_THAT(job.failedPids(), ElementsAre(2));
}

}  // namespace
}  // namespace jobtape::recorder
