// Store figures: resolving every selector kind on a store of 1,000,000 jobs
// (goal: < 1 ms each), and recording begin+finish job pairs from 8 processes
// at once (goal: >= 300 jobs/s on a 2-core machine).
//
//   build-x/bench/store_bench                       # all
//   build-x/bench/store_bench --benchmark_filter=Select
//   JOBTAPE_BENCH_JOBS=100000 build-x/bench/store_bench   # smaller fixture
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "store/selector.h"
#include "store/sqlite_store.h"
#include "store/ulid.h"

namespace {

using namespace jobtape::store;
namespace fs = std::filesystem;

constexpr int kJobsPerBuild = 1000;
constexpr int kRecipes = 50'000;
constexpr int kPids = 30'000;

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

std::string recipeHash(int recipe) {
  std::string hash;
  for (int i = 0; i < 4; ++i) hash += fmt::format("{:016x}", mix(static_cast<uint64_t>(recipe) * 4 + i));
  return hash;
}

// One store of N jobs, built once with a bulk insert in one transaction.
class Fixture {
 public:
  static Fixture& get() {
    static Fixture fixture;
    return fixture;
  }
  ~Fixture() {
    store.reset();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  fs::path dir;
  std::unique_ptr<SqliteStore> store;
  int jobCount = 0;
  std::string middleId;      // a job id in the middle of the history
  std::string failedBuildId;
  pid_t pid = 0;             // a pid several jobs had
  std::string recipePrefix;  // 12 hex digits of a recipe several jobs ran

  void reopen() { store = openSqliteStore(dir); }

 private:
  Fixture() {
    const char* count = std::getenv("JOBTAPE_BENCH_JOBS");
    jobCount = count ? std::atoi(count) : 1'000'000;
    std::string pattern = (fs::temp_directory_path() / "jobtape-store-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
    dir = pattern;
    reopen();
    auto started = std::chrono::steady_clock::now();
    fill();
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fprintf(stderr, "fixture: %d jobs in %.1f s (%s)\n", jobCount, seconds, dir.c_str());
  }

  void fill() {
    auto locked = store->lockDatabase();
    auto& db = locked.db;
    db.exec("PRAGMA cache_size = -262144");
    sqlite::Transaction transaction(db);
    sqlite::Statement build(db,
                            "INSERT INTO builds (id, started_at, stopped_at, result, command_line, cwd, host) "
                            "VALUES (?, ?, ?, ?, 'make', '/src', 'bench')");
    sqlite::Statement project(db, "INSERT INTO build_projects (build_id, local_project_path) VALUES (?, ?)");
    sqlite::Statement job(db,
                          "INSERT INTO jobs (id, build_id, build_projects_id, started_at, stopped_at, result, "
                          "exit_code, recipe_hash, command, pid, local_path, heartbeat_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)");
    UlidGenerator ids;
    int64_t t = 1'700'000'000'000;
    std::string buildId;
    int64_t projectId = 0;
    for (int i = 0; i < jobCount; ++i, t += 7) {
      if (i % kJobsPerBuild == 0) {
        buildId = ids.next(static_cast<uint64_t>(t));
        // Builds with a failed job: every 10th job fails, so all of them.
        build.bind(1, buildId).bind(2, t).bind(3, t + 7 * kJobsPerBuild).bind(4, "failed").run();
        project.bind(1, buildId).bind(2, fmt::format("/src/project{}", (i / kJobsPerBuild) % 20)).run();
        projectId = db.lastInsertRowid();
        failedBuildId = buildId;
      }
      std::string id = ids.next(static_cast<uint64_t>(t));
      bool failed = i % 10 == 3;
      int recipe = static_cast<int>(mix(static_cast<uint64_t>(i)) % kRecipes);
      job.bind(1, id).bind(2, buildId).bind(3, projectId).bind(4, t).bind(5, t + 5);
      job.bind(6, failed ? "failed" : "succeeded").bind(7, failed ? 2 : 0).bind(8, recipeHash(recipe));
      job.bind(9, fmt::format("cc -c file{}.c", i)).bind(10, 100 + i % kPids).bind(11, t + 5).run();
      if (i == jobCount / 2) {
        middleId = id;
        pid = 100 + i % kPids;
        recipePrefix = recipeHash(recipe).substr(0, 12);
      }
    }
    transaction.commit();
    db.exec("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE");
  }
};

void select(benchmark::State& state, const std::string& selector) {
  auto& fixture = Fixture::get();
  for (auto _ : state) {
    auto selection = resolveSelector(fixture.store.get(), selector);
    benchmark::DoNotOptimize(selection);
  }
}

void selectError(benchmark::State& state, const std::string& selector) {
  auto& fixture = Fixture::get();
  for (auto _ : state) {
    try {
      resolveSelector(fixture.store.get(), selector);
      state.SkipWithError("selector resolved");
      return;
    } catch (const SelectorError& error) {
      benchmark::DoNotOptimize(error.what());
    }
  }
}

void BM_SelectNone(benchmark::State& state) {
  auto& fixture = Fixture::get();
  for (auto _ : state) benchmark::DoNotOptimize(resolveSelector(fixture.store.get(), std::nullopt));
}
void BM_SelectFailed(benchmark::State& state) { select(state, "failed"); }
void BM_SelectLast(benchmark::State& state) { select(state, "last"); }
void BM_SelectBack50(benchmark::State& state) { select(state, "-50"); }
void BM_SelectBack1000(benchmark::State& state) { select(state, "-1000"); }
void BM_SelectIdPrefix12(benchmark::State& state) { select(state, Fixture::get().middleId.substr(0, 12)); }
void BM_SelectFullId(benchmark::State& state) { select(state, Fixture::get().middleId); }
void BM_SelectExplicitJob(benchmark::State& state) { select(state, "job:" + Fixture::get().middleId.substr(0, 14)); }
void BM_SelectRecipePrefix(benchmark::State& state) { select(state, Fixture::get().recipePrefix); }
void BM_SelectExplicitRecipe(benchmark::State& state) { select(state, "recipe:" + Fixture::get().recipePrefix); }
void BM_SelectPid(benchmark::State& state) { select(state, std::to_string(Fixture::get().pid)); }
void BM_SelectExplicitPid(benchmark::State& state) { select(state, "pid:" + std::to_string(Fixture::get().pid)); }
void BM_SelectEventsFile(benchmark::State& state) { select(state, "/etc/hostname"); }
void BM_SelectAmbiguousPrefix(benchmark::State& state) { selectError(state, "01"); }
void BM_SelectNoMatch(benchmark::State& state) { selectError(state, "7ZZZZ"); }
void BM_SelectBackPastTheEnd(benchmark::State& state) { selectError(state, "-999999999"); }

void BM_SelectBuildLast(benchmark::State& state) {
  auto& fixture = Fixture::get();
  for (auto _ : state) benchmark::DoNotOptimize(resolveBuildSelector(*fixture.store, std::nullopt));
}
void BM_SelectBuildFailed(benchmark::State& state) {
  auto& fixture = Fixture::get();
  for (auto _ : state) benchmark::DoNotOptimize(resolveBuildSelector(*fixture.store, "failed"));
}
void BM_SelectBuildPrefix(benchmark::State& state) {
  auto& fixture = Fixture::get();
  std::string prefix = fixture.failedBuildId.substr(0, 16);
  for (auto _ : state) benchmark::DoNotOptimize(resolveBuildSelector(*fixture.store, prefix));
}
void BM_ShortestUniquePrefix(benchmark::State& state) {
  auto& fixture = Fixture::get();
  for (auto _ : state) benchmark::DoNotOptimize(fixture.store->shortestUniquePrefix(fixture.middleId));
}
void BM_ListFailed20(benchmark::State& state) {
  auto& fixture = Fixture::get();
  for (auto _ : state) benchmark::DoNotOptimize(fixture.store->jobs(JobFilter{JobStatus::failed, {}, {}, 20}));
}

BENCHMARK(BM_SelectNone)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectFailed)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectLast)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectBack50)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectBack1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectIdPrefix12)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectFullId)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectExplicitJob)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectRecipePrefix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectExplicitRecipe)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectPid)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectExplicitPid)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectEventsFile)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectAmbiguousPrefix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectNoMatch)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectBackPastTheEnd)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectBuildLast)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectBuildFailed)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectBuildPrefix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShortestUniquePrefix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListFailed20)->Unit(benchmark::kMicrosecond);

// 8 processes, each recording `jobsEach` begin+finish pairs in its own build,
// all at once into `home`. Returns the wall time in seconds.
double recordFromEightProcesses(const fs::path& home, int jobsEach) {
  int gate[2];
  if (pipe(gate) != 0) throw std::runtime_error("pipe");
  std::vector<pid_t> children;
  for (int worker = 0; worker < 8; ++worker) {
    pid_t pid = fork();
    if (pid == 0) {
      close(gate[1]);
      char c;
      if (read(gate[0], &c, 1) < 0) _exit(2);
      try {
        auto store = Store::open(home);
        auto build = store->beginBuild(BuildStart{"bench", "/", "bench", {}, {}});
        auto project = store->addProject(build, ProjectSpec{"h", "/src/bench", ""});
        for (int i = 0; i < jobsEach; ++i) {
          auto id = store->newJobId();
          store->beginJob(id, JobStart{build, project, recipeHash(i), "{}", "cc", "", 1000 + i, 0, ""});
          store->finishJob(id, JobFinish{JobStatus::succeeded, 0, {}, "exited", {std::chrono::nanoseconds(1), std::chrono::nanoseconds(2), 3}, false});
        }
        store->finishBuild(build);
      } catch (const std::exception& error) {
        fprintf(stderr, "worker: %s\n", error.what());
        _exit(1);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  close(gate[0]);
  auto started = std::chrono::steady_clock::now();
  close(gate[1]);
  bool ok = true;
  for (pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!ok) throw std::runtime_error("a worker failed");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void insertBenchmark(benchmark::State& state, bool intoLargeStore) {
  constexpr int kJobsEach = 200;
  fs::path home;
  std::string pattern = (fs::temp_directory_path() / "jobtape-insert-bench-XXXXXX").string();
  if (intoLargeStore) {
    // No SQLite connection may cross fork(): close ours while they write.
    Fixture::get().store.reset();
    home = Fixture::get().dir;
  } else {
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
    home = pattern;
    Store::open(home);
  }
  for (auto _ : state) state.SetIterationTime(recordFromEightProcesses(home, kJobsEach));
  state.counters["jobs_per_s"] =
      benchmark::Counter(8.0 * kJobsEach * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (intoLargeStore) {
    Fixture::get().reopen();
  } else {
    std::error_code ignored;
    fs::remove_all(home, ignored);
  }
}

void BM_InsertEightProcessesFreshStore(benchmark::State& state) { insertBenchmark(state, false); }
void BM_InsertEightProcessesLargeStore(benchmark::State& state) { insertBenchmark(state, true); }

// One process, one job at a time: the two row transactions a recorded job
// costs its recorder (beginJob before the command runs, finishJob after).
void BM_BeginFinishOneProcess(benchmark::State& state) {
  std::string pattern = (fs::temp_directory_path() / "jobtape-pair-bench-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
  fs::path home = pattern;
  {
    auto store = Store::open(home);
    auto build = store->beginBuild(BuildStart{"bench", "/", "bench", {}, {}});
    auto project = store->addProject(build, ProjectSpec{"h", "/src/bench", ""});
    int i = 0;
    for (auto _ : state) {
      auto id = store->newJobId();
      store->beginJob(id, JobStart{build, project, recipeHash(i), "{}", "cc", "", 1000 + i, 0, ""});
      store->finishJob(id, JobFinish{JobStatus::succeeded, 0, {}, "exited", {std::chrono::nanoseconds(1), std::chrono::nanoseconds(2), 3}, false});
      ++i;
    }
    store->finishBuild(build);
  }
  std::error_code ignored;
  fs::remove_all(home, ignored);
}
BENCHMARK(BM_BeginFinishOneProcess)->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_InsertEightProcessesFreshStore)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_InsertEightProcessesLargeStore)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
