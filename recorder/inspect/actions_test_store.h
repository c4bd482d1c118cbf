// Test support for the build/job action tests: a real store in a scratch
// home, with short calls to record builds and jobs the way the recorder does.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "store/store.h"

namespace jobtape::recorder::testing {

class ScratchHome {
 public:
  ScratchHome() {
    std::string pattern = (std::filesystem::temp_directory_path() / "jobtape-actions-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchHome() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchHome(const ScratchHome&) = delete;
  ScratchHome& operator=(const ScratchHome&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class RecordingStore {
 public:
  RecordingStore() : store_(store::Store::open(home_.path())) {}
  store::Store& store() { return *store_; }
  const std::filesystem::path& home() const { return home_.path(); }

  std::string beginBuild(std::optional<std::string> parentJob = std::nullopt, std::string command = "make") {
    store::BuildStart start;
    start.commandLine = std::move(command);
    start.cwd = "/src";
    start.host = "testhost";
    start.parentJobId = std::move(parentJob);
    return store_->beginBuild(start);
  }
  int64_t addProject(const std::string& buildId, const std::string& path) {
    return store_->addProject(buildId, {"hash-" + path, path, ""});
  }
  std::string beginJob(const std::string& buildId, int64_t projectId, std::string recipeMeta = "{}") {
    std::string id = store_->newJobId();
    store::JobStart start;
    start.buildId = buildId;
    start.buildProjectId = projectId;
    start.recipeHash = "abcdef";
    start.recipeMeta = std::move(recipeMeta);
    start.command = "make all";
    start.pid = 4242;
    start.recorderPid = ::getpid();
    start.localPath = (home_.path() / "jobs" / id).string();
    store_->beginJob(id, start);
    return id;
  }
  void finishJob(const std::string& jobId, bool succeeded, bool stateKept = false) {
    store::JobFinish finish;
    finish.result = succeeded ? store::JobStatus::succeeded : store::JobStatus::failed;
    finish.exitCode = succeeded ? 0 : 2;
    finish.outcome = "exited";
    finish.stateKept = stateKept;
    store_->finishJob(jobId, finish);
  }
  // A finished build of `project` with one job that succeeded or failed.
  std::string buildWithOneJob(const std::string& project, bool succeeded) {
    auto build = beginBuild();
    auto job = beginJob(build, addProject(build, project));
    finishJob(job, succeeded);
    store_->finishBuild(build);
    return build;
  }

 private:
  ScratchHome home_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace jobtape::recorder::testing
