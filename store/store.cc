// Opening the store and the writes of a build's life cycle; leases.
// Schema and its design comment: schema.cc. Queries: store_queries.cc.
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>
#include <system_error>

#include "sandbox/clock.h"
#include "store/home_safety.h"
#include "store/job_dir.h"
#include "store/job_removal.h"
#include "store/schema.h"
#include "store/sqlite_store.h"
#include "store/ulid.h"

namespace jobtape::store {

namespace fs = std::filesystem;

const char* jobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::running: return "running";
    case JobStatus::succeeded: return "succeeded";
    case JobStatus::failed: return "failed";
    case JobStatus::abandoned: return "abandoned";
  }
  return "unknown";
}

int64_t wallClockMs() { return sandbox::unixNowMs(); }

namespace {

fs::path databasePath(const fs::path& home) { return home / kDatabaseName; }

void requireUlid(const std::string& id, const char* what) {
  if (!isUlid(id)) throw std::invalid_argument(fmt::format("{} '{}' is not a ULID", what, id));
}

}  // namespace

fs::path Store::jobDir(const std::string& jobId) const { return jobDirectory(home(), jobId); }
fs::path Store::jobDirOf(const JobRow& row) const { return jobDirectoryOf(home(), row); }

std::unique_ptr<SqliteStore> openSqliteStore(const fs::path& home, StoreOptions options) {
  prepareHome(home, true);
  return std::make_unique<SqliteStore>(home, std::move(options));
}

std::unique_ptr<Store> Store::open(const fs::path& home, FinishRecovery recover) {
  StoreOptions options;
  options.recoverFinish = std::move(recover);
  return openSqliteStore(home, std::move(options));
}

std::unique_ptr<Store> Store::openReadOnlyIfExists(const fs::path& home, FinishRecovery recover) {
  prepareHome(home, false);
  struct stat st {};
  if (::lstat(databasePath(home).c_str(), &st) != 0) return nullptr;
  StoreOptions options;
  options.createIfMissing = false;
  options.recoverFinish = std::move(recover);
  return std::make_unique<SqliteStore>(home, std::move(options));
}

SqliteStore::SqliteStore(fs::path home, StoreOptions options)
    : home_(std::move(home)),
      options_(std::move(options)),
      db_(openStoreDatabase(databasePath(home_), options_.createIfMissing)) {
  if (!options_.nowMs) options_.nowMs = wallClockMs;
  if (!options_.probe) options_.probe = systemProcessProbe();
}

std::string SqliteStore::beginBuild(const BuildStart& start) {
  std::lock_guard lock(mutex_);
  int64_t now = options_.nowMs();
  std::string id = processUlidGenerator().next(static_cast<uint64_t>(now));
  sqlite::Transaction transaction(db_);
  sqlite::Statement insert(db_,
                           "INSERT INTO builds (id, started_at, command_line, cwd, host, parent_job_id, retry_of, "
                           "recorder_pid, recorder_start_time, lease_owner, heartbeat_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  pid_t recorder = start.recorderPid > 0 ? start.recorderPid : getpid();
  insert.bind(1, id).bind(2, now).bind(3, start.commandLine).bind(4, start.cwd).bind(5, start.host);
  insert.bind(6, start.parentJobId).bind(7, start.retryOf).bind(8, static_cast<int64_t>(recorder));
  insert.bind(9, options_.probe->startTime(recorder)).bind(10, options_.probe->leaseOwner()).bind(11, now).run();
  transaction.commit();
  return id;
}

int64_t SqliteStore::addProject(const std::string& buildId, const ProjectSpec& project) {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_);
  sqlite::Statement insert(db_,
                           "INSERT INTO build_projects (build_id, project_hash, local_project_path, "
                           "registry_project_name) VALUES (?, ?, ?, ?)");
  insert.bind(1, buildId).bind(2, project.projectHash).bind(3, project.localProjectPath);
  insert.bind(4, project.registryProjectName).run();
  int64_t id = db_.lastInsertRowid();
  transaction.commit();
  return id;
}

std::string SqliteStore::newJobId() { return processUlidGenerator().next(static_cast<uint64_t>(options_.nowMs())); }

void SqliteStore::beginJob(const std::string& jobId, const JobStart& start) {
  requireUlid(jobId, "job id");
  std::lock_guard lock(mutex_);
  int64_t now = options_.nowMs();
  sqlite::Transaction transaction(db_);
  sqlite::Statement insert(db_,
                           "INSERT INTO jobs (id, build_id, build_projects_id, started_at, recipe_hash, "
                           "recipe_meta, command, name, pid, recorder_pid, lease_owner, local_path, heartbeat_at, "
                           "recorder_start_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, jobId).bind(2, start.buildId);
  if (start.buildProjectId > 0) {
    insert.bind(3, start.buildProjectId);
  } else {
    insert.bindNull(3);
  }
  insert.bind(4, now).bind(5, start.recipeHash).bind(6, start.recipeMeta).bind(7, start.command);
  insert.bind(8, start.name).bind(9, static_cast<int64_t>(start.pid));
  pid_t recorder = start.recorderPid > 0 ? start.recorderPid : getpid();
  insert.bind(10, static_cast<int64_t>(recorder));
  insert.bind(11, options_.probe->leaseOwner()).bind(12, start.localPath).bind(13, now);
  insert.bind(14, options_.probe->startTime(recorder)).run();
  transaction.commit();
}

void SqliteStore::setJobPid(const std::string& jobId, pid_t pid) {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_);
  sqlite::Statement(db_, "UPDATE jobs SET pid = ? WHERE id = ?").bind(1, static_cast<int64_t>(pid)).bind(2, jobId).run();
  transaction.commit();
}

void SqliteStore::heartbeat(const std::vector<std::string>& jobIds) {
  if (jobIds.empty()) return;
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_);
  int64_t now = options_.nowMs();
  sqlite::Statement job(db_, "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND result IS NULL");
  // The job's build holds the same lease while one of its jobs runs.
  sqlite::Statement build(db_,
                          "UPDATE builds SET heartbeat_at = ?1 WHERE id = (SELECT build_id FROM jobs WHERE id = ?2) "
                          "AND result IS NULL");
  for (const std::string& jobId : jobIds) {
    job.bind(1, now).bind(2, jobId).run();
    build.bind(1, now).bind(2, jobId).run();
  }
  transaction.commit();
}

void SqliteStore::finishJob(const std::string& jobId, const JobFinish& finish) {
  if (finish.result == JobStatus::running) {
    throw std::invalid_argument(fmt::format("job {}: a finished job cannot be 'running'", jobId));
  }
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_);
  std::string buildId;
  {
    sqlite::Statement select(db_, "SELECT build_id FROM jobs WHERE id = ?");
    select.bind(1, jobId);
    if (!select.step()) throw std::invalid_argument(fmt::format("no job {} in the store", jobId));
    buildId = select.text(0);
  }
  // A job the reaper had given up on may still finish: its own result wins.
  sqlite::Statement update(db_,
                           "UPDATE jobs SET stopped_at = ?, result = ?, exit_code = ?, signal = ?, outcome = ?, "
                           "user_cpu_ns = ?, sys_cpu_ns = ?, max_rss_bytes = ?, state_kept = ? WHERE id = ?");
  update.bind(1, options_.nowMs()).bind(2, jobStatusName(finish.result)).bind(3, finish.exitCode);
  update.bind(4, finish.signal).bind(5, finish.outcome).bind(6, finish.rusage.userCpu.count());
  update.bind(7, finish.rusage.systemCpu.count()).bind(8, finish.rusage.maxRssBytes).bind(9, finish.stateKept);
  update.bind(10, jobId).run();
  // A build still running counts its jobs when it finishes; one that already
  // finished learns of the failure now.
  if (finish.result != JobStatus::succeeded) failBuildUpward(buildId, false);
  transaction.commit();
}

std::string SqliteStore::finishBuild(const std::string& buildId) {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_);
  bool failed = false;
  {
    sqlite::Statement check(db_,
                            "SELECT EXISTS (SELECT 1 FROM jobs WHERE build_id = ?1 AND result IN ('failed', 'abandoned')) "
                            "OR EXISTS (SELECT 1 FROM builds c JOIN jobs j ON c.parent_job_id = j.id "
                            "WHERE j.build_id = ?1 AND c.result = 'failed')");
    check.bind(1, buildId);
    check.step();
    failed = check.int64(0) != 0;
  }
  const char* result = failed ? "failed" : "succeeded";
  // A build given up on (its recorder seemed gone) that finishes after all
  // records its own result.
  int changed = sqlite::Statement(db_, "UPDATE builds SET stopped_at = ?, result = ?, abandoned = 0 WHERE id = ?")
                    .bind(1, options_.nowMs())
                    .bind(2, result)
                    .bind(3, buildId)
                    .run();
  if (changed == 0) throw std::invalid_argument(fmt::format("no build {} in the store", buildId));
  if (failed) {
    if (auto parent = parentBuildOf(buildId)) failBuildUpward(*parent, false);
  }
  transaction.commit();
  return result;
}

void SqliteStore::failBuild(const std::string& buildId) {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_);
  sqlite::Statement(db_, "UPDATE builds SET stopped_at = ? WHERE id = ? AND stopped_at IS NULL")
      .bind(1, options_.nowMs())
      .bind(2, buildId)
      .run();
  failBuildUpward(buildId, true);
  transaction.commit();
}

std::optional<std::string> SqliteStore::parentBuildOf(const std::string& buildId) {
  sqlite::Statement select(db_,
                           "SELECT j.build_id FROM builds b JOIN jobs j ON j.id = b.parent_job_id WHERE b.id = ?");
  select.bind(1, buildId);
  if (!select.step()) return std::nullopt;
  return select.text(0);
}

void SqliteStore::failBuildUpward(const std::string& buildId, bool evenIfRunning) {
  std::optional<std::string> current = buildId;
  // Bounded: parent_job_id is not a foreign key, so a cycle is possible in a
  // hand-edited store.
  for (int depth = 0; current && depth < 64; ++depth) {
    std::optional<std::string> result;
    {
      sqlite::Statement select(db_, "SELECT result FROM builds WHERE id = ?");
      select.bind(1, *current);
      if (!select.step()) return;
      result = select.optionalText(0);
    }
    if (result == "failed") return;  // its ancestors heard of it already
    if (!result && !(depth == 0 && evenIfRunning)) return;  // will count it when it finishes
    sqlite::Statement(db_, "UPDATE builds SET result = 'failed' WHERE id = ?").bind(1, *current).run();
    current = parentBuildOf(*current);
  }
}

void SqliteStore::deleteJob(const std::string& jobId) {
  auto row = job(jobId);
  if (!row) return;
  if (row->status == JobStatus::running) {
    throw std::invalid_argument(fmt::format("job {} is still running; it cannot be deleted", jobId));
  }
  std::vector<std::string> problems;
  removeJobs(*this, {jobId}, problems);
  if (!problems.empty()) throw std::runtime_error(problems.front());
}

bool SqliteStore::checkpointDue() {
  std::lock_guard lock(mutex_);
  return db_.walFrames() >= kWalFramesDue;
}

void SqliteStore::checkpoint() {
  std::lock_guard lock(mutex_);
  db_.checkpoint();
}

}  // namespace jobtape::store
