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
//
//   run_true [ROUNDS]      (default 200; bench/runner_vs_bwrap.sh runs it)
//   run_true ROUNDS NAME   only that contender, for a profiler to watch
//
// Prints the median and quartiles of each, and the runner's ratio to bwrap.
#include <spawn.h>
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

bool runnerTrue() {
  static const jobtape::Recipe recipe = [] {
    jobtape::Recipe r;
    r.command = "/bin/true";
    r.mounts = {{jobtape::Mount::Kind::roBind, "/", "/"}};
    r.workDir = "/";
    return r;
  }();
  DiscardingObserver observer;
  RunResult result = run(recipe, {}, observer);
  if (!result.succeeded()) std::fprintf(stderr, "run_true: runner: %s\n", result.message.c_str());
  return result.succeeded();
}

// One Recorder, build and project for the whole run, in a home removed at exit.
class RecordedTrue {
 public:
  RecordedTrue() {
    char pattern[] = "/tmp/jobtape-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    recorder_ = jobtape::Recorder::open({dir_ / "home"});
    build_ = recorder_->beginBuild({"run_true", dir_});
    project_ = build_->addProject({dir_});
    recipe_ = jobtape::defaultRecipe("/bin/true", {}, dir_, dir_);
  }
  ~RecordedTrue() {
    build_.reset();
    recorder_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  bool once() {
    jobtape::JobResult result = build_->run(recipe_, project_);
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

bool spawnAndWait(std::vector<std::string> argv) {
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, raw[0], nullptr, nullptr, raw.data(), environ) != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct Contender {
  const char* name;
  const char* what;
  std::function<bool()> once;
  std::vector<double> ms;
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  RecordedTrue recorded;
  std::vector<Contender> contenders = {
      {"runner", "sandbox::run, ro /, own /proc /dev, all namespaces, seccomp, captured", runnerTrue, {}},
      {"bwrap", "bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true",
       [] { return spawnAndWait({"bwrap", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"}); },
       {}},
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
  };
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
  for (Contender& c : contenders) {  // warm up caches, the seccomp program, bwrap's pages
    for (int i = 0; i < 3; ++i) {
      if (!c.once()) {
        std::fprintf(stderr, "run_true: %s failed\n", c.name);
        return 1;
      }
    }
  }
  std::mt19937 shuffle(12345);
  std::vector<size_t> order(contenders.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int round = 0; round < rounds; ++round) {
    std::shuffle(order.begin(), order.end(), shuffle);
    for (size_t i : order) {
      auto start = Clock::now();
      contenders[i].once();
      contenders[i].ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
  }
  std::printf("%d interleaved rounds; wall time per run of `true` (ms): median [p25 p75]\n", rounds);
  for (const Contender& c : contenders) {
    std::printf("  %-8s %7.3f [%6.3f %6.3f]  %s\n", c.name, quantile(c.ms, 0.5), quantile(c.ms, 0.25),
                quantile(c.ms, 0.75), c.what);
  }
  double runner = quantile(contenders[0].ms, 0.5);
  double ratio = runner / quantile(contenders[1].ms, 0.5);
  std::printf("runner / bwrap = %.2fx (goal <= 0.80x: %s); runner / bwrap --new-session = %.2fx\n", ratio,
              ratio <= 0.8 ? "met" : "NOT met", runner / quantile(contenders[2].ms, 0.5));
  double recorder = quantile(contenders[5].ms, 0.5);
  std::printf("recorder / runner = %.2fx (recording adds %.3f ms a job); recorder / bwrap = %.2fx\n",
              recorder / runner, recorder - runner, recorder / quantile(contenders[1].ms, 0.5));
  return 0;
}
