// sandbox::run end to end: real namespaces, real processes. Outcomes, output,
// limits, kept state, record-only mode. The suite runs twice in CI: as the
// caller (root there) and as nobody (tools/as-nobody).
#include "sandbox/runner.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/deferred_reap.h"
#include "sandbox/runner_test_support.h"

namespace jobtape::sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace jobtape::sandbox::testing;

RunResult runRecipe(const Recipe& recipe, CollectingObserver& observer, RunOptions options = {}) {
  return run(recipe, options, observer);
}

TEST(Runner, ExitCodeOfTheCommand) {
  CollectingObserver o;
  RunResult r = runRecipe(helperRecipe({"exit", "0"}), o);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.message;
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_TRUE(r.succeeded());
  EXPECT_GT(o.startedPid, 0);

  r = runRecipe(helperRecipe({"exit", "42"}), o);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.message;
  EXPECT_EQ(r.exitCode, 42);
  EXPECT_EQ(r.signal, 0);
  EXPECT_FALSE(r.succeeded());
}

TEST(Runner, KilledBySignal) {
  CollectingObserver o;
  RunResult r = runRecipe(helperRecipe({"raise", std::to_string(SIGUSR1)}), o);
  EXPECT_EQ(r.outcome, Outcome::signaled) << r.message;
  EXPECT_EQ(r.signal, SIGUSR1);
  EXPECT_EQ(r.exitCode, 128 + SIGUSR1);

  r = runRecipe(helperRecipe({"raise", std::to_string(SIGKILL)}), o);
  EXPECT_EQ(r.outcome, Outcome::signaled) << r.message;
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.exitCode, 137);
}

TEST(Runner, StdoutAndStderrSeparatedInOrderWithIncreasingTimestamps) {
  CollectingObserver o;
  RunResult r = runRecipe(
      helperRecipe({"script", "out:o1", "sleep:60", "err:e1", "sleep:60", "out:o2", "sleep:60", "err:e2"}), o);
  ASSERT_TRUE(r.succeeded()) << r.message;
  EXPECT_EQ(o.out(), "o1o2");
  EXPECT_EQ(o.err(), "e1e2");
  ASSERT_EQ(o.chunks.size(), 4u);
  EXPECT_EQ(o.chunks[0].bytes, "o1");
  EXPECT_EQ(o.chunks[1].bytes, "e1");
  EXPECT_EQ(o.chunks[2].bytes, "o2");
  EXPECT_EQ(o.chunks[3].bytes, "e2");
  for (size_t i = 1; i < o.chunks.size(); ++i) EXPECT_GT(o.chunks[i].elapsedNs, o.chunks[i - 1].elapsedNs);
  EXPECT_LE(o.chunks.back().elapsedNs, r.wallNs);
}

TEST(Runner, CommandNotFoundIs127) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({});
  recipe.command = "/nonexistent/program";
  RunResult r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::commandNotFound) << r.message;
  EXPECT_EQ(r.exitCode, 127);

  recipe.command = "jobtape-no-such-command";  // looked up in the recipe's PATH
  r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::commandNotFound) << r.message;
  EXPECT_EQ(r.exitCode, 127);
  EXPECT_THAT(r.message, HasSubstr("command not found"));
}

TEST(Runner, NotExecutableIs126) {
  TempDir dir;
  std::filesystem::path script = dir.path() / "not-executable";
  std::ofstream(script) << "#!/bin/sh\nexit 0\n";
  ::chmod(script.c_str(), 0644);
  CollectingObserver o;
  Recipe recipe = helperRecipe({});
  recipe.mounts.push_back({Mount::Kind::bind, dir.path().string(), ""});  // under the private /tmp
  recipe.command = script.string();
  RunResult r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::notExecutable) << r.message;
  EXPECT_EQ(r.exitCode, 126);

  recipe.command = dir.path().string();  // a directory
  r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::notExecutable) << r.message;
  EXPECT_EQ(r.exitCode, 126);
}

TEST(Runner, PathLookupUsesTheRecipeEnvironment) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({"exit", "7"});
  recipe.command = "runner_test_helper";
  recipe.env = {{"PATH", "/nonexistent:" + std::filesystem::path(helperPath()).parent_path().string()}};
  RunResult r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.message;
  EXPECT_EQ(r.exitCode, 7);
}

TEST(Runner, SetupFailureNamesTheStep) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({"exit", "0"});
  recipe.mounts.push_back({Mount::Kind::roBind, "/nonexistent/source", "/mnt/x"});
  std::string badMount = "mounts[" + std::to_string(recipe.mounts.size() - 1) + "]";
  RunResult r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::setupFailed) << r.message;
  EXPECT_EQ(r.setupStep, "bind source");
  EXPECT_EQ(r.setupErrno, ENOENT);
  EXPECT_EQ(r.exitCode, 125);
  EXPECT_THAT(r.message, HasSubstr(badMount));
  EXPECT_THAT(r.message, HasSubstr("/nonexistent/source"));

  recipe = helperRecipe({"exit", "0"});
  recipe.workDir = "/nonexistent-workdir";
  r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::setupFailed) << r.message;
  EXPECT_EQ(r.setupStep, "chdir");
  EXPECT_EQ(r.setupErrno, ENOENT);
}

TEST(Runner, MountPointBelowReadOnlyBindIsNotCreatedOnTheHost) {
  TempDir dir;
  CollectingObserver o;
  Recipe recipe = helperRecipe({"exit", "0"});
  std::string missing = "/usr/jobtape-should-not-exist-" + std::to_string(getpid());
  recipe.mounts.push_back({Mount::Kind::bind, dir.path().string(), missing});
  RunResult r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::setupFailed) << r.message;
  EXPECT_EQ(r.setupStep, "mount point");
  EXPECT_EQ(r.setupErrno, EROFS);
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST(Runner, TimeoutKillsGrandchildrenAndStoppedProcesses) {
  std::string marker = uniqueMarker("timeout");
  CollectingObserver o;
  Recipe recipe = helperRecipe({"tree", marker});
  recipe.limits.timeoutMs = 700;
  recipe.limits.killGraceMs = 300;
  RunResult r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::timedOut) << r.message;
  EXPECT_EQ(r.exitCode, 124);
  EXPECT_EQ(r.signal, SIGKILL);  // it ignored SIGTERM
  EXPECT_EQ(o.out(), "ready\n");
  EXPECT_THAT(processesWithMarker(marker), ::testing::IsEmpty());
}

TEST(Runner, TimeoutOfACooperativeJobEndsWithSigterm) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({"ready"});
  recipe.limits.timeoutMs = 300;
  RunResult r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::timedOut) << r.message;
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.exitCode, 124);
}

// Cancels from the observer (the run() thread) once the job said it is ready.
class CancelWhenReady : public CollectingObserver {
 public:
  explicit CancelWhenReady(CancelToken& c) : cancellation_(c) {}
  void onOutput(Stream s, uint64_t t, std::span<const char> bytes) override {
    CollectingObserver::onOutput(s, t, bytes);
    if (out().find("ready") != std::string::npos) cancellation_.request(SIGINT);
  }

 private:
  CancelToken& cancellation_;
};

TEST(Runner, CancelStopsTheTree) {
  std::string marker = uniqueMarker("cancel");
  CancelToken cancellation;
  CancelWhenReady o(cancellation);
  Recipe recipe = helperRecipe({"tree", marker});
  recipe.limits.killGraceMs = 300;
  RunResult r = run(recipe, {}, o, &cancellation);
  EXPECT_EQ(r.outcome, Outcome::cancelled) << r.message;
  EXPECT_EQ(r.signal, SIGINT);
  EXPECT_EQ(r.exitCode, 130);
  EXPECT_THAT(processesWithMarker(marker), ::testing::IsEmpty());
}

TEST(Runner, CancelFromAnotherThread) {
  CancelToken cancellation;
  CollectingObserver o;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancellation.request(SIGTERM);
  });
  RunResult r = run(helperRecipe({"ready"}), {}, o, &cancellation);
  canceller.join();
  EXPECT_EQ(r.outcome, Outcome::cancelled) << r.message;
  EXPECT_EQ(r.signal, SIGTERM);
}

// One token for every job of a build: the supervisor polls it without
// reading it, so a request made before a run, or seen by another run,
// still stops each job.
TEST(Runner, ARequestReachesEveryRunGivenTheToken) {
  CancelToken cancellation;
  cancellation.request(SIGTERM);
  for (int run_ = 0; run_ < 2; ++run_) {
    CollectingObserver o;
    RunResult r = run(helperRecipe({"ready"}), {}, o, &cancellation);
    EXPECT_EQ(r.outcome, Outcome::cancelled) << r.message;
    EXPECT_EQ(r.signal, SIGTERM);
  }
}

TEST(Runner, MemoryLimitIsEnforced) {
  CollectingObserver small, big;
  Recipe recipe = helperRecipe({"alloc", "16"});
  recipe.limits.memoryBytes = 256u << 20;
  RunResult r = runRecipe(recipe, small);
  EXPECT_TRUE(r.succeeded()) << r.message;
  EXPECT_EQ(small.out(), "ok\n");

  recipe.args = {"alloc", "1024"};
  r = runRecipe(recipe, big);
  // RLIMIT_AS makes the allocation fail; a memory cgroup would kill instead.
  EXPECT_TRUE(big.out() == "ENOMEM\n" || (r.outcome == Outcome::signaled && r.signal == SIGKILL))
      << big.out() << " " << r.message;
}

TEST(Runner, ResourceUsageCoversTheTree) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({"burn", "150"});
  RunResult r = runRecipe(recipe, o);
  ASSERT_TRUE(r.succeeded()) << r.message;
  EXPECT_GT(r.rusage.userCpu + r.rusage.systemCpu, std::chrono::milliseconds(100));
  EXPECT_GT(r.rusage.maxRssBytes, 0u);
  EXPECT_GE(std::chrono::nanoseconds(r.wallNs), r.rusage.userCpu / 2);
}

// The job is over when its main process is: what it left running is killed
// by pid 1 (which reports only then), and once the sandboxes still exiting
// are reaped this process has no child left.
TEST(Runner, WhatTheMainProcessLeftRunningEndsWithItAndNoChildRemains) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({});
  recipe.command = "/bin/sh";
  recipe.args = {"-c", "sleep 1000 & sleep 1000 & echo started"};
  RunResult r = runRecipe(recipe, o);
  ASSERT_TRUE(r.succeeded()) << r.message;
  EXPECT_EQ(o.out(), "started\n");
  reapAllSandboxes();
  siginfo_t info{};
  EXPECT_EQ(::waitid(P_ALL, 0, &info, WEXITED | WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Runner, EnvironmentIsExactlyTheRecipesPlusExtra) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({"env"});
  recipe.env = {{"PATH", "/usr/bin"}, {"A", "1"}, {"B", "two words"}};
  RunOptions options;
  options.extraEnv = {{"JOBTAPE_JOB_ID", "01TEST"}, {"A", "replaced"}};
  RunResult r = runRecipe(recipe, o, options);
  ASSERT_TRUE(r.succeeded()) << r.message;
  EXPECT_THAT(o.outLines(), ElementsAre("PATH=/usr/bin", "A=replaced", "B=two words", "JOBTAPE_JOB_ID=01TEST"));
}

TEST(Runner, WorkDirHostnameAndIds) {
  TempDir dir;
  CollectingObserver cwd, host, ids;
  Recipe recipe = helperRecipe({"cwd"});
  recipe.mounts.push_back({Mount::Kind::bind, dir.path().string(), "/tmp/work"});
  recipe.workDir = "/tmp/work";
  RunResult r = runRecipe(recipe, cwd);
  ASSERT_TRUE(r.succeeded()) << r.message;
  EXPECT_EQ(cwd.out(), "/tmp/work\n");

  recipe = helperRecipe({"hostname"});
  ASSERT_TRUE(runRecipe(recipe, host).succeeded());
  recipe.hostname = "builder";
  CollectingObserver named;
  ASSERT_TRUE(runRecipe(recipe, named).succeeded());
  EXPECT_EQ(host.out(), "jobtape\n");
  EXPECT_EQ(named.out(), "builder\n");

  recipe = helperRecipe({"ids"});
  ASSERT_TRUE(runRecipe(recipe, ids).succeeded());
  std::string me = std::to_string(geteuid()) + " " + std::to_string(getegid());
  EXPECT_EQ(ids.out(), me + " " + me + "\n");
  recipe.uid = 1000;
  recipe.gid = 1001;
  CollectingObserver chosen;
  ASSERT_TRUE(runRecipe(recipe, chosen).succeeded());
  EXPECT_EQ(chosen.out(), "1000 1001 1000 1001\n");
}

TEST(Runner, NoPrivilegesInside) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({"status"});
  recipe.uid = 0;  // even as root inside
  recipe.gid = 0;
  RunResult r = runRecipe(recipe, o);
  ASSERT_TRUE(r.succeeded()) << r.message;
  std::string s = o.out();
  for (const char* line : {"CapInh:\t0000000000000000", "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000",
                           "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1"}) {
    EXPECT_THAT(s, HasSubstr(line));
  }
  EXPECT_THAT(s, HasSubstr("Seccomp:\t2"));
}

TEST(Runner, KeptStateAndReuse) {
  TempDir dir;
  RunOptions options;
  options.stateDir = dir.path() / "state";
  CollectingObserver first;
  RunResult r = runRecipe(helperRecipe({"write", "/tmp/kept.txt", "from the first run"}), first, options);
  ASSERT_TRUE(r.succeeded()) << r.message;
  EXPECT_EQ(first.out(), "ok\n");
  EXPECT_EQ(readFile(options.stateDir / "tmpfs" / "tmp" / "kept.txt"), "from the first run");

  // A fresh run refuses somebody else's state...
  CollectingObserver refused;
  r = runRecipe(helperRecipe({"cat", "/tmp/kept.txt"}), refused, options);
  EXPECT_EQ(r.outcome, Outcome::setupFailed);
  EXPECT_EQ(r.setupStep, "state directory");
  EXPECT_EQ(r.setupErrno, ENOTEMPTY);

  // ...and debug-shell takes it back.
  options.reuseState = true;
  CollectingObserver again;
  r = runRecipe(helperRecipe({"cat", "/tmp/kept.txt"}), again, options);
  ASSERT_TRUE(r.succeeded()) << r.message;
  EXPECT_EQ(again.out(), "from the first run");
}

TEST(Runner, ParallelRunsFromSeveralThreads) {
  constexpr int kThreads = 4;
  std::vector<RunResult> results(kThreads);
  std::vector<std::string> outputs(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([i, &results, &outputs] {
      CollectingObserver o;
      results[i] = run(helperRecipe({"script", "out:thread" + std::to_string(i), "sleep:50"}), {}, o);
      outputs[i] = o.out();
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(results[i].succeeded()) << results[i].message;
    EXPECT_EQ(outputs[i], "thread" + std::to_string(i));
  }
}

TEST(Runner, ExecsAreTracedWhenAsked) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({});
  recipe.command = "/bin/sh";
  recipe.args = {"-c", helperPath() + " exit 0; exit 3"};
  RunOptions options;
  options.traceExecs = true;
  RunResult r = runRecipe(recipe, o, options);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.message;
  EXPECT_EQ(r.exitCode, 3);
  ASSERT_EQ(o.execs.size(), 2u);
  EXPECT_EQ(o.execs[0].argv, (std::vector<std::string>{"/bin/sh", "-c", helperPath() + " exit 0; exit 3"}));
  EXPECT_EQ(o.execs[1].argv, (std::vector<std::string>{helperPath(), "exit", "0"}));
  EXPECT_EQ(o.execs[1].ppid, o.execs[0].pid);

  CollectingObserver untraced;
  ASSERT_EQ(runRecipe(recipe, untraced).exitCode, 3);
  EXPECT_TRUE(untraced.execs.empty());
}

// The main process's first exec is told by the main process itself (its
// memory is pid 1's, which an unprivileged supervisor may not read): the
// record must still be what it exec'd, found on PATH, in its own cwd, and
// complete. Runs as nobody too.
TEST(Runner, TheMainProcessesExecIsRecordedAsItSawIt) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({});
  recipe.command = "sh";
  recipe.args = {"-c", "cd /tmp && exec " + helperPath() + " exit 4"};
  recipe.env = {{"PATH", "/nonexistent:/usr/bin:/bin"}};
  recipe.workDir = "/usr/share/../lib";
  RunOptions options;
  options.traceExecs = true;
  RunResult r = runRecipe(recipe, o, options);
  EXPECT_EQ(r.exitCode, 4) << r.message;
  ASSERT_EQ(o.execs.size(), 2u);
  EXPECT_EQ(o.execs[0].executable, "/usr/bin/sh");
  EXPECT_EQ(o.execs[0].argv, (std::vector<std::string>{"sh", "-c", recipe.args[1]}));
  EXPECT_EQ(o.execs[0].cwd, "/usr/lib");  // as the kernel spells it, not as asked
  EXPECT_EQ(o.execs[0].pid, 2);
  EXPECT_EQ(o.execs[0].ppid, 1);
  // Its second exec is read from its own (new, readable) memory.
  EXPECT_EQ(o.execs[1].executable, helperPath());
  EXPECT_EQ(o.execs[1].cwd, "/tmp");
  EXPECT_EQ(o.execs[1].pid, 2);
  EXPECT_TRUE(o.shortfalls.empty()) << o.shortfalls[0].reason;
}

TEST(RecordOnly, RunsOnTheHostWithCaptureAndExitCode) {
  CollectingObserver o;
  Recipe recipe = helperRecipe({"script", "out:hello", "err:world"});
  recipe.sandboxed = false;
  RunResult r = runRecipe(recipe, o);
  ASSERT_TRUE(r.succeeded()) << r.message;
  EXPECT_EQ(o.out(), "hello");
  EXPECT_EQ(o.err(), "world");

  CollectingObserver procs;
  recipe.args = {"procs"};
  ASSERT_TRUE(runRecipe(recipe, procs).succeeded());
  // A /proc of its own pid namespace: pid 1 and the helper, no host process.
  EXPECT_THAT(procs.outLines(), ::testing::UnorderedElementsAre("1", "2"));

  recipe.args = {"exit", "3"};
  EXPECT_EQ(runRecipe(recipe, o).exitCode, 3);
  recipe.command = "/nonexistent/program";
  EXPECT_EQ(runRecipe(recipe, o).outcome, Outcome::commandNotFound);
}

TEST(RecordOnly, TimeoutKillsTheWholeTree) {
  std::string marker = uniqueMarker("record-only");
  CollectingObserver o;
  Recipe recipe = helperRecipe({"tree", marker});
  recipe.sandboxed = false;
  recipe.limits.timeoutMs = 500;
  recipe.limits.killGraceMs = 200;
  RunResult r = runRecipe(recipe, o);
  EXPECT_EQ(r.outcome, Outcome::timedOut) << r.message;
  // The grandchild that called setsid() left the group, not the job's pid
  // namespace: it is gone with the rest.
  std::vector<pid_t> left = processesWithMarker(marker);
  for (pid_t pid : left) kill(pid, SIGKILL);
  EXPECT_THAT(left, ::testing::IsEmpty()) << "a process of a record-only job outlived its timeout";
}

}  // namespace
}  // namespace jobtape::sandbox
