// The Recorder and its builds: the embeddable front of jobtape.
#include <unistd.h>

#include <cstdlib>
#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <mutex>
#include <map>
#include <set>

#include "recorder/absolute_directory.h"
#include "recorder/events/reusable_threads.h"
#include "recorder/job_files.h"
#include "recorder/job_finish_recovery.h"
#include "recorder/job_runner.h"
#include "recorder/recorder_host.h"
#include "recorder/recorder_store.h"
#include "sandbox/deferred_reap.h"
#include "sandbox/init_image.h"
#include "store/store.h"

namespace jobtape {

namespace fs = std::filesystem;
using recorder::LockedStore;

namespace {

bool sameDirectory(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

// A build started inside a recorded job is that job's child, when both are
// recorded in the same home (a job id means nothing in another store).
std::optional<std::string> parentFromEnvironment(const fs::path& home) {
  const char* jobId = std::getenv("JOBTAPE_JOB_ID");
  const char* jobHome = std::getenv("JOBTAPE_HOME");
  if (!jobId || !*jobId || !jobHome || !*jobHome) return std::nullopt;
  if (!sameDirectory(jobHome, home)) return std::nullopt;
  return std::string(jobId);
}

class BuildImpl final : public Build {
 public:
  BuildImpl(std::shared_ptr<LockedStore> store, std::string id, std::string host)
      : store_(std::move(store)), id_(std::move(id)), host_(std::move(host)) {}

  ~BuildImpl() override {
    if (finished_) return;
    try {
      finish();
    } catch (...) {
      // The build stays open; readers mark it failed once its jobs read abandoned.
    }
  }

  const std::string& id() const noexcept override { return id_; }

  int64_t addProject(const ProjectOptions& project) override {
    bool hasPath = !project.localPath.empty();
    bool hasName = !project.registryName.empty();
    if (hasPath == hasName) {
      throw Error(Error::Kind::invalidArgument,
                  "a project has either a local path or a registry name (exactly one)");
    }
    store::ProjectSpec spec;
    if (hasPath) spec.localProjectPath = recorder::absoluteDirectory(project.localPath).string();
    spec.registryProjectName = project.registryName;
    spec.projectHash = project.projectHash.value_or(
        recorder::sha256Hex(hasPath ? spec.localProjectPath : spec.registryProjectName));
    int64_t projectId = store_->with([&](store::Store& s) { return s.addProject(id_, spec); });
    std::lock_guard lock(mutex_);
    projects_[projectId] = spec.projectHash;
    return projectId;
  }

  JobResult run(const Recipe& recipe, int64_t projectId, const JobOptions& options) override {
    std::string projectHash;
    {
      std::lock_guard lock(mutex_);
      if (finished_) throw Error(Error::Kind::invalidArgument, "build " + id_ + " is finished already");
      if (!projects_.count(projectId)) {
        throw Error(Error::Kind::invalidArgument,
                    "project id " + std::to_string(projectId) + " was not added to build " + id_);
      }
      projectHash = projects_.at(projectId);
    }
    try {
      return recorder::runJob(*store_, {id_, projectId, host_, projectHash}, recipe, options);
    } catch (...) {
      // A run refused (the disk is full, the recipe is bad, the sandbox
      // failed) fails its build, though it may have left no job row.
      std::lock_guard lock(mutex_);
      refused_ = true;
      throw;
    }
  }

  std::string finish() override {
    bool refused = false;
    {
      std::lock_guard lock(mutex_);
      if (finished_) throw Error(Error::Kind::invalidArgument, "build " + id_ + " is finished already");
      finished_ = true;
      refused = refused_;
    }
    try {
      if (refused) {
        store_->with([&](store::Store& s) { s.failBuild(id_); });
        return "failed";
      }
      return store_->with([&](store::Store& s) { return s.finishBuild(id_); });
    } catch (const HomeError&) {
      throw;
    } catch (const Error& error) {
      throw Error(Error::Kind::store, recorder::plainStoreFailure(error), {}, error.code(), error.cause());
    }
  }

 private:
  std::shared_ptr<LockedStore> store_;
  std::string id_;
  std::string host_;
  std::mutex mutex_;
  std::map<int64_t, std::string> projects_;  // id -> project hash
  bool finished_ = false;
  bool refused_ = false;  // a run threw: the build failed whatever its jobs say
};

// The sandbox's init image (sandbox/init_image.h) is made once a process,
// about 0.5 ms of copying: on a pool thread while the build's rows are
// written, so that a `jobtape run` does not wait for it at its one clone.
// Whatever fails here, the first job makes it itself.
void warmSandboxInit() noexcept {
  try {
    (void)recorder::ReusableThreads::shared().run([] { (void)sandbox::initImageFd(); });
  } catch (...) {
  }
}

class RecorderImpl final : public Recorder {
 public:
  explicit RecorderImpl(std::shared_ptr<LockedStore> store) : store_(std::move(store)) {}
  // No sandbox's pid 1 outlives the Recorder, not even as a zombie.
  ~RecorderImpl() override { sandbox::reapAllSandboxes(); }

  const fs::path& home() const noexcept override { return store_->home(); }

  std::unique_ptr<Build> beginBuild(const BuildOptions& options) override {
    warmSandboxInit();
    store::BuildStart start;
    start.commandLine = options.commandLine;
    start.cwd = recorder::absoluteDirectory(options.cwd).string();
    start.host = recorder::hostName();
    start.retryOf = options.retryOf;
    start.parentJobId = options.parentJobId;
    if (!start.parentJobId && options.parentFromEnvironment) {
      start.parentJobId = parentFromEnvironment(home());
    }
    std::string id = store_->with([&](store::Store& s) {
      // A writer stores what readers only infer: jobs and builds whose
      // recorder went away.
      s.reapAbandoned();
      return s.beginBuild(start);
    });
    return std::make_unique<BuildImpl>(store_, std::move(id), start.host);
  }

 private:
  std::shared_ptr<LockedStore> store_;
};

}  // namespace

std::unique_ptr<Recorder> Recorder::open(const RecorderOptions& options) {
  std::unique_ptr<store::Store> opened;
  try {
    opened = store::Store::open(store::resolveHome(options.home), recorder::finishRecordedIn);
  } catch (...) {
    recorder::rethrowAsStoreError();
  }
  return std::make_unique<RecorderImpl>(std::make_shared<LockedStore>(std::move(opened)));
}

}  // namespace jobtape
