// `true` through sandbox::run next to the tools people compare it with, all
// started the same way and timed the same way (wall clock from start to
// exit), interleaved one run at a time in a shuffled order each round, so that
// a change in machine load hits every contender alike:
//
//   runner   sandbox::run in this process: a recipe with the host's / read-only
//            (the default view of `jobtape run`), own /proc and /dev, all
//            namespaces, seccomp, output captured through pipes
//   bwrap    bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true
//   bwrap-ns the same with --new-session, which the runner's isolation
//            matches (setsid: the job has no controlling terminal). Under CPU
//            contention a new session costs: it is a new scheduler autogroup.
//   unshare  unshare -Urpfmiun true (namespaces only: no mounts, no seccomp)
//   plain    true, for the cost of fork+exec alone
//   recorder Build::run of `jobtape run`'s default recipe in a Recorder
//            opened once (a temporary home): what an embedding build tool
//            pays per job, recording (rows, events file, kept-state policy)
//            included, without a process start or a store open
//   jobtape  `jobtape run -- true` (process start, store open, recording),
//            output discarded, in a temporary JOBTAPE_HOME; only when
//            JOBTAPE_BENCH_JOBTAPE names the binary
// and, only when named in JOBTAPE_BENCH_CONTENDERS (each run is 64 jobs):
//   recorder-4x64  64 jobs of `true` through one Build from 4 threads
//   bwrap-4x64     64 bwrap `true` (as above), 4 at a time
//
//   run_true [ROUNDS]      (default 200; bench/runner_vs_bwrap.sh runs it)
//   run_true ROUNDS NAME   only that contender, for a profiler to watch
//   JOBTAPE_BENCH_CONTENDERS=a,b,...  time only these (bench/all.sh)
//   JOBTAPE_BENCH_BALLAST_MIB=N       this process holds N MiB first (see ballast())
//
// Prints the median and quartiles of each, and the ratios of the contenders
// present to bwrap; beside each, the median CPU time its process tree used
// (user + system), which is what its wall time follows when every CPU is
// busy: `jobtape run` then pays for its process start, store open and exit
// in full instead of beside the job.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <jobtape/recorder.h>

#include "sandbox/runner.h"

extern char** environ;

namespace {

using namespace jobtape::sandbox;
using Clock = std::chrono::steady_clock;

class DiscardingObserver : public RunObserver {
 public:
  void onOutput(Stream, uint64_t, std::span<const char>) override {}
};

// The runner's recipe: the host's / read-only, nothing else.
const jobtape::Recipe& minimalRecipe() {
  static const jobtape::Recipe recipe = [] {
    jobtape::Recipe r;
    r.command = "/bin/true";
    r.mounts = {{jobtape::Mount::Kind::roBind, "/", "/"}};
    r.workDir = "/";
    return r;
  }();
  return recipe;
}

bool runnerTrue() {
  DiscardingObserver observer;
  RunResult result = run(minimalRecipe(), {}, observer);
  if (!result.succeeded()) std::fprintf(stderr, "run_true: runner: %s\n", result.message.c_str());
  return result.succeeded();
}

// One Recorder, build and project for the whole run, in a home removed at exit.
class RecordedTrue {
 public:
  RecordedTrue() {
    // Not under /tmp by default: a project there puts the mount point of its
    // bind into every job's private /tmp, which a real checkout does not.
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/var/tmp") + "/jobtape-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    // The store apart from the project: a job may write its project.
    std::filesystem::path project = dir_ / "project";
    std::filesystem::create_directory(project);
    recorder_ = jobtape::Recorder::open({dir_ / "home"});
    build_ = recorder_->beginBuild({"run_true", project});
    project_ = build_->addProject({project});
    recipe_ = jobtape::defaultRecipe("/bin/true", {}, project, project);
  }
  // JOBTAPE_BENCH_KEEP_SCRATCH=1 leaves the home to the caller (bench/all.sh
  // removes all of its scratch at its end): removing thousands of files here
  // would tax the next figure's file creations (see bench/all.sh).
  ~RecordedTrue() {
    build_.reset();
    recorder_.reset();
    const char* keep = std::getenv("JOBTAPE_BENCH_KEEP_SCRATCH");
    if (keep != nullptr && std::string_view(keep) == "1") return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  bool once(bool minimal = false, bool traced = true) {
    jobtape::JobOptions options;
    options.traceExecs = traced;
    jobtape::JobResult result = build_->run(minimal ? minimalRecipe() : recipe_, project_, options);
    if (!result.succeeded) std::fprintf(stderr, "run_true: recorder: %s\n", result.message.c_str());
    return result.succeeded;
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<jobtape::Recorder> recorder_;
  std::unique_ptr<jobtape::Build> build_;
  int64_t project_ = 0;
  jobtape::Recipe recipe_;
};

// Runs argv to its end; `quietIn`, when given, is its work directory, and its
// stdout and stderr go to /dev/null (jobtape prints the job's output and id).
bool spawnAndWait(std::vector<std::string> argv, const char* quietIn = nullptr) {
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quietIn != nullptr) {
    posix_spawn_file_actions_addchdir_np(&actions, quietIn);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  pid_t pid = 0;
  int failed = posix_spawnp(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (failed != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool bwrapTrue() {
  return spawnAndWait({"bwrap", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"});
}

// `jobs` runs of `once`, `threads` at a time: each thread runs its share in turn.
bool inParallel(int jobs, int threads, const std::function<bool()>& once) {
  std::vector<std::thread> pool;
  std::vector<char> ok(threads, 1);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int j = t; j < jobs; j += threads) ok[t] = once() && ok[t];
    });
  }
  for (std::thread& thread : pool) thread.join();
  return std::all_of(ok.begin(), ok.end(), [](char v) { return v != 0; });
}

struct Contender {
  const char* name;
  const char* what;
  std::function<bool()> once;
  std::vector<double> ms;
  bool byDefault = true;  // timed unless JOBTAPE_BENCH_CONTENDERS names others
  std::vector<double> cpuMs = {};  // user + system, of this process and of the processes it waited for
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

// The median wall (or CPU) time of the contender named `name`, or 0 when it
// was not timed.
double medianOf(const std::vector<Contender*>& timed, std::string_view name,
                std::vector<double> Contender::*figure = &Contender::ms) {
  for (const Contender* c : timed) {
    if (c->name == name) return quantile(c->*figure, 0.5);
  }
  return 0;
}

void printRatios(const std::vector<Contender*>& timed) {
  double runner = medianOf(timed, "runner"), bwrap = medianOf(timed, "bwrap"), recorder = medianOf(timed, "recorder");
  double jobtape = medianOf(timed, "jobtape"), bwrapNs = medianOf(timed, "bwrap-ns");
  if (runner > 0 && bwrap > 0) {
    std::printf("runner / bwrap = %.2fx (goal <= 0.80x: %s)", runner / bwrap, runner / bwrap <= 0.8 ? "met" : "NOT met");
    if (bwrapNs > 0) std::printf("; runner / bwrap --new-session = %.2fx", runner / bwrapNs);
    std::printf("\n");
  }
  if (recorder > 0 && runner > 0) {
    std::printf("recorder / runner = %.2fx (recording adds %.3f ms a job)", recorder / runner, recorder - runner);
    if (bwrap > 0) std::printf("; recorder / bwrap = %.2fx", recorder / bwrap);
    std::printf("\n");
  }
  // The same recipe on both sides: what the recording itself (rows, events
  // file, state tree) adds, without the default recipe's extra mounts.
  const double recorderMin = medianOf(timed, "recorder-min");
  if (recorderMin > 0 && runner > 0) {
    std::printf("recorder-min / runner = %.2fx (same recipe: recording alone adds %.3f ms a job)\n",
                recorderMin / runner, recorderMin - runner);
  }
  if (jobtape > 0 && bwrap > 0) std::printf("jobtape / bwrap = %.2fx\n", jobtape / bwrap);
  // Where every CPU is busy, wall time follows CPU time.
  const double recorderCpu = medianOf(timed, "recorder", &Contender::cpuMs);
  const double jobtapeCpu = medianOf(timed, "jobtape", &Contender::cpuMs);
  if (recorderCpu > 0 && jobtapeCpu > 0) {
    std::printf("cpu time: jobtape / recorder = %.2fx (the jobtape process adds %.3f ms of CPU a job)\n",
                jobtapeCpu / recorderCpu, jobtapeCpu - recorderCpu);
  }
  double batch = medianOf(timed, "recorder-4x64"), bwrapBatch = medianOf(timed, "bwrap-4x64");
  if (batch > 0 && bwrapBatch > 0) std::printf("recorder-4x64 / bwrap-4x64 = %.2fx\n", batch / bwrapBatch);
}

// The contenders to time: JOBTAPE_BENCH_CONTENDERS's list, else the default ones.
std::vector<Contender*> chosen(std::vector<Contender>& contenders) {
  const char* list = std::getenv("JOBTAPE_BENCH_CONTENDERS");
  std::vector<Contender*> timed;
  for (Contender& c : contenders) {
    bool named = list != nullptr && ("," + std::string(list) + ",").find("," + std::string(c.name) + ",") != std::string::npos;
    if (list == nullptr ? c.byDefault : named) timed.push_back(&c);
  }
  return timed;
}

// CPU time used so far by this process (all its threads) and by the
// processes it has waited for, theirs included: what a contender costs a
// machine whose CPUs are all busy, where its wall time follows it.
double cpuMsSoFar() {
  double ms = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage usage{};
    ::getrusage(who, &usage);
    for (const timeval& t : {usage.ru_utime, usage.ru_stime}) ms += static_cast<double>(t.tv_sec) * 1e3 + t.tv_usec / 1e3;
  }
  return ms;
}

// bwrap exits without waiting for its sandbox's pid 1, whose CPU time then
// reaches no process of ours: for bwrap it would be its own share only.
bool cpuCounted(const Contender& c) { return !std::string_view(c.name).starts_with("bwrap"); }

// Warms every contender up, then times one run of each per round, in an
// order shuffled every round. False when a warm-up run failed.
bool timeInTurns(std::vector<Contender*> timed, int rounds) {
  for (Contender* c : timed) {  // warm up caches, the seccomp program, bwrap's pages, the store
    for (int i = 0; i < (c->byDefault ? 3 : 1); ++i) {
      if (!c->once()) {
        std::fprintf(stderr, "run_true: %s failed\n", c->name);
        return false;
      }
    }
  }
  std::mt19937 shuffle(12345);
  for (int round = 0; round < rounds; ++round) {
    std::shuffle(timed.begin(), timed.end(), shuffle);
    for (Contender* c : timed) {
      const double cpuBefore = cpuMsSoFar();
      auto start = Clock::now();
      c->once();
      c->ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      c->cpuMs.push_back(cpuMsSoFar() - cpuBefore);
    }
  }
  return true;
}

}  // namespace

// JOBTAPE_BENCH_BALLAST_MIB=N: this process first fills N MiB of its own
// memory, as an embedding build tool's heap would be, so that what a job
// costs can be seen against the size of the program that records it (the
// sandbox's pid 1 starts as a copy-on-write fork of it).
std::vector<char> ballast() {
  const char* mib = std::getenv("JOBTAPE_BENCH_BALLAST_MIB");
  std::vector<char> bytes(mib ? static_cast<size_t>(std::atol(mib)) << 20 : 0);
  for (size_t i = 0; i < bytes.size(); i += 4096) bytes[i] = static_cast<char>(i);
  return bytes;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  std::vector<char> heap = ballast();
  RecordedTrue recorded;
  const char* jobtapeBinary = std::getenv("JOBTAPE_BENCH_JOBTAPE");
  std::string jobtapeDir = (recorded.dir() / "jobtape-run").string();
  std::filesystem::create_directory(jobtapeDir);
  ::setenv("JOBTAPE_HOME", (recorded.dir() / "jobtape-home").c_str(), 1);
  std::vector<Contender> contenders = {
      {"runner", "sandbox::run, ro /, own /proc /dev, all namespaces, seccomp, captured", runnerTrue, {}},
      {"bwrap", "bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true", bwrapTrue, {}},
      {"bwrap-ns", "bwrap --new-session --unshare-all --ro-bind / / --proc /proc --dev /dev true",
       [] {
         return spawnAndWait(
             {"bwrap", "--new-session", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"});
       },
       {}},
      {"unshare", "unshare -Urpfmiun true", [] { return spawnAndWait({"unshare", "-Urpfmiun", "true"}); }, {}},
      {"plain", "true (fork+exec only)", [] { return spawnAndWait({"true"}); }, {}},
      {"recorder", "Build::run of the default recipe: the runner plus rows and events file",
       [&recorded] { return recorded.once(); }, {}},
      {"recorder-min", "Build::run of the runner's recipe: what recording alone adds to the runner",
       [&recorded] { return recorded.once(true); }, {}},
      {"recorder-min-untraced", "recorder-min without exec tracing", [&recorded] { return recorded.once(true, false); }, {}, false},
      {"recorder-4x64", "64 jobs of `true` through one Build::run from 4 threads",
       [&recorded] { return inParallel(64, 4, [&recorded] { return recorded.once(); }); }, {}, false},
      {"bwrap-4x64", "64 bwrap `true` (as bwrap above), 4 at a time", [] { return inParallel(64, 4, bwrapTrue); }, {},
       false},
  };
  if (jobtapeBinary != nullptr) {
    contenders.push_back({"jobtape", "jobtape run -- true (a process: start, store open, recording)",
                          [&] { return spawnAndWait({jobtapeBinary, "run", "--", "true"}, jobtapeDir.c_str()); }, {}});
  }
  if (argc > 2) {
    for (Contender& c : contenders) {
      if (c.name != std::string_view(argv[2])) continue;
      for (int i = 0; i < rounds; ++i) {
        if (!c.once()) return 1;
      }
      return 0;
    }
    std::fprintf(stderr, "run_true: no contender named %s\n", argv[2]);
    return 2;
  }
  std::vector<Contender*> timed = chosen(contenders);
  if (!timeInTurns(timed, rounds)) return 1;
  std::sort(timed.begin(), timed.end());  // back in the order above (pointers into one vector)
  std::printf("%d interleaved rounds; wall time per run (ms): median [p25 p75]; median CPU time (ms) of the process tree\n", rounds);
  for (const Contender* c : timed) {
    std::printf("  %-13s %8.3f [%7.3f %7.3f]  ", c->name, quantile(c->ms, 0.5), quantile(c->ms, 0.25),
                quantile(c->ms, 0.75));
    if (cpuCounted(*c)) {
      std::printf("cpu %6.3f  %s\n", quantile(c->cpuMs, 0.5), c->what);
    } else {
      std::printf("cpu    n/a  %s\n", c->what);
    }
  }
  printRatios(timed);
  return 0;
}
