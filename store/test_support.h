// Shared by the store's unit tests: a temporary home, a settable clock, a
// scripted process probe, and a child process that runs a function.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "store/lease.h"
#include "store/sqlite_store.h"

namespace jobtape::store::testing {

class TempHome {
 public:
  TempHome() {
    std::string pattern = (std::filesystem::temp_directory_path() / "jobtape-store-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempHome() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path db() const { return path_ / "jobtape.db"; }

 private:
  std::filesystem::path path_;
};

struct ManualClock {
  std::shared_ptr<int64_t> now = std::make_shared<int64_t>(1'700'000'000'000);
  std::function<int64_t()> function() const {
    auto shared = now;
    return [shared] { return *shared; };
  }
  void advance(int64_t ms) const { *now += ms; }
};

class ScriptedProbe final : public ProcessProbe {
 public:
  std::string owner = "test-boot:pid:[1]";
  std::set<pid_t> gone;
  std::string leaseOwner() override { return owner; }
  uint64_t startTime(pid_t pid) override { return static_cast<uint64_t>(pid) + 1000; }
  bool isGone(pid_t pid, uint64_t) override { return gone.count(pid) != 0; }
};

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void writeFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Runs `body` in a forked child; the child exits 0 when it returns and 1 when
// it throws. Returns the pid; collect it with waitExit().
inline pid_t forkChild(const std::function<void()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    int code = 0;
    try {
      body();
    } catch (const SqliteError& error) {
      fprintf(stderr, "child %d: SqliteError %d: %s\n", getpid(), error.extendedCode(), error.what());
      code = (error.extendedCode() & 0xff) == 5 ? 5 : 1;  // 5: SQLITE_BUSY surfaced
    } catch (const std::exception& error) {
      fprintf(stderr, "child %d: %s\n", getpid(), error.what());
      code = 1;
    }
    _exit(code);
  }
  return pid;
}

// Exit code of the child, or 128 + signal.
inline int waitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// A build with one project, for tests that need jobs to hang off something.
struct BuildFixture {
  std::string buildId;
  int64_t projectId = 0;
};

inline BuildFixture beginTestBuild(Store& store, const std::string& project = "/src/app",
                                   std::optional<std::string> parentJobId = std::nullopt) {
  BuildFixture fixture;
  fixture.buildId = store.beginBuild(BuildStart{"make all", "/src/app", "testhost", std::move(parentJobId), {}});
  fixture.projectId = store.addProject(fixture.buildId, ProjectSpec{"projhash", project, ""});
  return fixture;
}

inline std::string runTestJob(Store& store, const BuildFixture& build, JobStatus result,
                              const std::string& command = "cc -c a.c", pid_t pid = 4242,
                              const std::string& recipeHash = std::string(64, 'a'),
                              std::optional<std::string> id = std::nullopt, const std::string& name = "") {
  std::string jobId = id ? *id : store.newJobId();
  JobStart start;
  start.buildId = build.buildId;
  start.buildProjectId = build.projectId;
  start.recipeHash = recipeHash;
  start.recipeMeta = "{}";
  start.command = command;
  start.name = name;
  start.pid = pid;
  start.localPath = store.jobDir(jobId).string();
  store.beginJob(jobId, start);
  if (result != JobStatus::running) {
    JobFinish finish;
    finish.result = result;
    finish.exitCode = result == JobStatus::succeeded ? 0 : 1;
    store.finishJob(jobId, finish);
  }
  return jobId;
}

}  // namespace jobtape::store::testing
