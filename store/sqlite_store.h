// The Store on jobtape.db, and the index lookups selectors and retention
// need beyond the Store interface.
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "store/job_index.h"
#include "store/lease.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace jobtape::store {

struct StoreOptions {
  std::function<int64_t()> nowMs;          // default: wall clock
  std::shared_ptr<ProcessProbe> probe;     // default: systemProcessProbe()
  int64_t leaseTimeoutMs = leaseTimeoutFromEnvironment();
  bool createIfMissing = true;  // false: a missing jobtape.db is an error
  FinishRecovery recoverFinish;  // default: lapsed jobs read as abandoned
};

int64_t wallClockMs();

class SqliteStore final : public Store, public JobIndex {
 public:
  // Throws StoreOpenError.
  SqliteStore(std::filesystem::path home, StoreOptions options);

  const std::filesystem::path& home() const override { return home_; }

  std::string beginBuild(const BuildStart& start) override;
  int64_t addProject(const std::string& buildId, const ProjectSpec& project) override;
  std::string newJobId() override;
  void beginJob(const std::string& jobId, const JobStart& start) override;
  void setJobPid(const std::string& jobId, pid_t pid) override;
  void heartbeat(const std::vector<std::string>& jobIds) override;
  void finishJob(const std::string& jobId, const JobFinish& finish) override;
  std::string finishBuild(const std::string& buildId) override;
  void failBuild(const std::string& buildId) override;
  int reapAbandoned() override;
  bool checkpointDue() override;
  void checkpoint() override;

  std::optional<JobRow> job(const std::string& jobId) override;
  std::vector<JobRow> jobs(const JobFilter& filter) override;
  std::optional<BuildRow> build(const std::string& buildId) override;
  std::vector<BuildRow> builds(int limit) override;
  std::vector<BuildRow> buildsStartedSince(int64_t sinceMs) override;
  std::vector<ProjectRow> projects(const std::string& buildId) override;
  std::vector<BuildRow> childBuilds(const std::string& buildId) override;
  std::vector<JobRow> jobsOfBuild(const std::string& buildId) override;
  std::string shortestUniquePrefix(const std::string& jobId, size_t minLength = kShortIdLength) override;
  void deleteJob(const std::string& jobId) override;

  // JobIndex.
  std::optional<JobRow> recentJob(JobKind kind, int64_t offset) override;
  int64_t countJobs(JobKind kind) override;
  std::optional<JobRow> recentRunningJob() override;
  std::vector<JobRow> jobsWithIdPrefix(const std::string& prefix, int limit) override;
  std::vector<std::string> recipeHashesWithPrefix(const std::string& prefix, int limit) override;
  std::optional<JobRow> recentJobOfRecipe(const std::string& recipeHash) override;
  std::optional<JobRow> recentJobWithPid(pid_t pid) override;
  std::optional<JobRow> recentJobNamed(const std::string& name) override;
  std::optional<BuildRow> recentBuild(JobKind kind) override;
  std::vector<BuildRow> buildsWithIdPrefix(const std::string& prefix, int limit) override;

  // For `gc --recover` (store_restore.cc): a job's row and its build's,
  // rebuilt from its events file, then every build's result from its jobs.
  struct RestoredBuild {
    std::string host;
    std::optional<std::string> parentJobId;
  };
  void restoreJob(const JobRow& job, const RestoredBuild& build);
  void settleRestoredBuilds();

  // For retention: the connection, held under the store's lock.
  struct Locked {
    std::unique_lock<std::mutex> lock;
    sqlite::Database& db;
  };
  Locked lockDatabase() { return Locked{std::unique_lock(mutex_), db_}; }
  int64_t now() const { return options_.nowMs(); }

 private:
  // The running jobs and builds whose lease lapsed, into temp.lapsed_jobs
  // and temp.lapsed_builds (in memory): what every query reads as abandoned.
  void inferLapsedLocked();
  int reapLocked();
  struct LapsedJob {
    std::string id;
    int64_t heartbeatAt = 0;
    std::optional<JobFinish> finish;  // from its events file; none: abandoned
  };
  std::optional<std::string> storeLapsedJob(const LapsedJob& job);
  // Marks the build failed and carries the failure to the builds above it
  // that already finished (a running parent sees it when it finishes).
  void failBuildUpward(const std::string& buildId, bool evenIfRunning);
  std::optional<std::string> parentBuildOf(const std::string& buildId);

  std::filesystem::path home_;
  StoreOptions options_;
  std::mutex mutex_;  // one connection, used by one thread at a time
  sqlite::Database db_;
  bool lapsedTablesMade_ = false;  // temp.lapsed_*, by the first inferLapsedLocked()
  int64_t lapsedJobs_ = 0;    // rows in temp.lapsed_jobs
  int64_t lapsedBuilds_ = 0;  // rows in temp.lapsed_builds
};

// Creates home and home/jobs, opens home/jobtape.db. Throws StoreOpenError.
std::unique_ptr<SqliteStore> openSqliteStore(const std::filesystem::path& home, StoreOptions options = {});

}  // namespace jobtape::store
