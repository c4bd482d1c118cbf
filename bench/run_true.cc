// `true` through sandbox::run next to the tools people compare it with, all
// started the same way and timed the same way (wall clock per start-to-exit):
//
//   runner   sandbox::run in this process: a recipe with the host's / read-only
//            (the default view of `jobtape run`), own /proc and /dev, all
//            namespaces, seccomp, output captured through pipes
//   bwrap    bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true
//   unshare  unshare -Urpfmiun true (namespaces only: no mounts, no seccomp)
//   plain    true, for the cost of fork+exec alone
//
// bench/runner_vs_bwrap.sh runs this with repetitions in random interleaving
// and prints medians and the ratio to bwrap.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "sandbox/runner.h"

extern char** environ;

namespace {

using namespace jobtape::sandbox;

class DiscardingObserver : public RunObserver {
 public:
  void onOutput(Stream, uint64_t, std::span<const char>) override {}
};

void BM_Runner(benchmark::State& state) {
  jobtape::Recipe recipe;
  recipe.command = "/bin/true";
  recipe.mounts = {{jobtape::Mount::Kind::roBind, "/", "/"}};
  recipe.workDir = "/";
  DiscardingObserver observer;
  for (auto _ : state) {
    RunResult r = run(recipe, {}, observer);
    if (!r.succeeded()) {
      state.SkipWithError(r.message.c_str());
      break;
    }
  }
}

void spawnAndWait(benchmark::State& state, std::vector<std::string> argv) {
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  for (auto _ : state) {
    pid_t pid = 0;
    if (posix_spawnp(&pid, raw[0], nullptr, nullptr, raw.data(), environ) != 0) {
      state.SkipWithError("cannot start the program");
      break;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("the program failed");
      break;
    }
  }
}

void BM_Bwrap(benchmark::State& state) {
  spawnAndWait(state, {"bwrap", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"});
}

void BM_Unshare(benchmark::State& state) { spawnAndWait(state, {"unshare", "-Urpfmiun", "true"}); }

void BM_Plain(benchmark::State& state) { spawnAndWait(state, {"true"}); }

BENCHMARK(BM_Runner)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bwrap)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Unshare)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plain)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
