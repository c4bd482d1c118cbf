// Leases (lease.h): which running jobs and builds lost their recorder.
// Readers infer it into temp tables in memory before each query; writers
// store it when the database can be written now. A lapsed job whose events
// file holds its finish record (the recorder died between writing it and
// finishing the row) reads as that result, not as abandoned.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "store/job_dir.h"
#include "store/sqlite_store.h"
#include "store/ulid.h"

namespace jobtape::store {

namespace {

struct LeaseHolder {
  std::string id;
  int64_t heartbeatAt = 0;
  std::optional<JobFinish> recovered;  // jobs only: from the events file
};

// Running rows of `table` (jobs or builds) whose lease lapsed.
std::vector<LeaseHolder> lapsedRows(sqlite::Database& db, const char* table, const StoreOptions& options) {
  std::string sql = std::string("SELECT id, recorder_pid, recorder_start_time, lease_owner, heartbeat_at FROM ") +
                    table + " WHERE result IS NULL";
  int64_t now = options.nowMs();
  std::string owner = options.probe->leaseOwner();
  std::vector<LeaseHolder> lapsed;
  sqlite::Statement running(db, sql);
  while (running.step()) {
    int64_t heartbeatAt = running.int64(4);
    bool ours = running.text(3) == owner;
    // Where the pid means something, the process alone decides: a stopped
    // recorder's heartbeat goes stale, and it is still alive.
    bool gone = ours ? options.probe->isGone(static_cast<pid_t>(running.int64(1)),
                                             static_cast<uint64_t>(running.int64(2)))
                     : now - heartbeatAt > options.leaseTimeoutMs;
    if (gone) lapsed.push_back({running.text(0), heartbeatAt, std::nullopt});
  }
  return lapsed;
}

void recoverFinishes(const std::filesystem::path& home, const FinishRecovery& recover,
                     std::vector<LeaseHolder>& jobs) {
  if (!recover) return;
  for (auto& job : jobs) {
    if (!isUlid(job.id)) continue;  // names no directory
    job.recovered = recover(jobDirectory(home, job.id));
    if (job.recovered && job.recovered->result == JobStatus::running) job.recovered.reset();
  }
}

int64_t fillBuilds(sqlite::Database& db, const std::vector<LeaseHolder>& rows) {
  db.exec("DELETE FROM temp.lapsed_builds");
  for (const auto& row : rows) {
    sqlite::Statement(db, "INSERT INTO temp.lapsed_builds VALUES (?, ?)").bind(1, row.id).bind(2, row.heartbeatAt).run();
  }
  return static_cast<int64_t>(rows.size());
}

int64_t fillJobs(sqlite::Database& db, const std::vector<LeaseHolder>& rows) {
  db.exec("DELETE FROM temp.lapsed_jobs");
  for (const auto& row : rows) {
    sqlite::Statement insert(db, "INSERT INTO temp.lapsed_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, row.id).bind(2, row.heartbeatAt);
    if (const auto& finish = row.recovered) {
      insert.bind(3, jobStatusName(finish->result)).bind(4, finish->exitCode).bind(5, finish->signal);
      insert.bind(6, finish->outcome).bind(7, finish->rusage.userCpu.count()).bind(8, finish->rusage.systemCpu.count());
      insert.bind(9, finish->rusage.maxRssBytes);
    } else {
      for (int column = 3; column <= 9; ++column) insert.bindNull(column);
    }
    insert.run();
  }
  return static_cast<int64_t>(rows.size());
}

bool cannotWriteNow(const SqliteError& error) {
  int primary = error.extendedCode() & 0xff;
  return primary == SQLITE_READONLY || primary == SQLITE_FULL || primary == SQLITE_BUSY ||
         primary == SQLITE_LOCKED || primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN ||
         primary == SQLITE_PERM;
}

// A write that must not make a reader or gc wait long for another writer.
constexpr int kReapBusyTimeoutMs = 200;
constexpr int kWriterBusyTimeoutMs = 10'000;

class ShortBusyTimeout {
 public:
  explicit ShortBusyTimeout(sqlite::Database& db) : db_(db) { db_.setBusyTimeout(kReapBusyTimeoutMs); }
  ~ShortBusyTimeout() { db_.setBusyTimeout(kWriterBusyTimeoutMs); }
  ShortBusyTimeout(const ShortBusyTimeout&) = delete;
  ShortBusyTimeout& operator=(const ShortBusyTimeout&) = delete;

 private:
  sqlite::Database& db_;
};

}  // namespace

void SqliteStore::inferLapsedLocked() {
  // Made by the first query that reads them: a recorder never does, and
  // parsing them cost a fifth of opening the store.
  if (!lapsedTablesMade_) {
    // result NULL: abandoned; else what the job's events file says it ended with.
    db_.exec("CREATE TEMP TABLE IF NOT EXISTS lapsed_jobs (id TEXT PRIMARY KEY, heartbeat_at INTEGER, result TEXT, "
             "exit_code INTEGER, signal INTEGER, outcome TEXT, user_cpu_ns INTEGER, sys_cpu_ns INTEGER, "
             "max_rss_bytes INTEGER) WITHOUT ROWID; "
             "CREATE TEMP TABLE IF NOT EXISTS lapsed_builds (id TEXT PRIMARY KEY, heartbeat_at INTEGER) WITHOUT ROWID");
    lapsedTablesMade_ = true;
  }
  auto jobs = lapsedRows(db_, "jobs", options_);
  recoverFinishes(home_, options_.recoverFinish, jobs);
  lapsedJobs_ = fillJobs(db_, jobs);
  lapsedBuilds_ = fillBuilds(db_, lapsedRows(db_, "builds", options_));
}

int SqliteStore::reapAbandoned() {
  std::lock_guard lock(mutex_);
  return reapLocked();
}

// Stores one lapsed job's end: the recovered result, or abandoned. Returns
// its build, or nullopt when the row changed meanwhile.
std::optional<std::string> SqliteStore::storeLapsedJob(const LapsedJob& job) {
  sqlite::Statement update(db_,
                           "UPDATE jobs SET result = COALESCE(?3, 'abandoned'), stopped_at = heartbeat_at, "
                           "exit_code = ?4, signal = ?5, outcome = COALESCE(?6, outcome), "
                           "user_cpu_ns = COALESCE(?7, user_cpu_ns), sys_cpu_ns = COALESCE(?8, sys_cpu_ns), "
                           "max_rss_bytes = COALESCE(?9, max_rss_bytes) "
                           "WHERE id = ?1 AND result IS NULL AND heartbeat_at = ?2 RETURNING build_id");
  update.bind(1, job.id).bind(2, job.heartbeatAt);
  if (job.finish) {
    const auto& f = *job.finish;
    update.bind(3, jobStatusName(f.result)).bind(4, f.exitCode).bind(5, f.signal).bind(6, f.outcome);
    update.bind(7, f.rusage.userCpu.count()).bind(8, f.rusage.systemCpu.count()).bind(9, f.rusage.maxRssBytes);
  } else {
    for (int column = 3; column <= 9; ++column) update.bindNull(column);
  }
  if (!update.step()) return std::nullopt;
  std::string buildId = update.text(0);
  while (update.step()) {
  }
  return buildId;
}

int SqliteStore::reapLocked() {
  auto jobs = lapsedRows(db_, "jobs", options_);
  recoverFinishes(home_, options_.recoverFinish, jobs);
  auto builds = lapsedRows(db_, "builds", options_);
  if (jobs.empty() && builds.empty()) return 0;
  int reaped = 0;
  ShortBusyTimeout shortWait(db_);
  try {
    sqlite::Transaction transaction(db_);
    // Builds first: a build whose recorder is gone is abandoned, not merely
    // failed by its abandoned job.
    for (const auto& build : builds) {
      int changed = sqlite::Statement(db_,
                                      "UPDATE builds SET result = 'failed', abandoned = 1, "
                                      "stopped_at = max(heartbeat_at, started_at) "
                                      "WHERE id = ? AND result IS NULL AND heartbeat_at = ?")
                        .bind(1, build.id)
                        .bind(2, build.heartbeatAt)
                        .run();
      if (changed == 0) continue;
      ++reaped;
      if (auto parent = parentBuildOf(build.id)) failBuildUpward(*parent, false);
    }
    for (const auto& job : jobs) {
      auto buildId = storeLapsedJob({job.id, job.heartbeatAt, job.recovered});
      if (!buildId) continue;
      ++reaped;
      if (!job.recovered || job.recovered->result != JobStatus::succeeded) failBuildUpward(*buildId, true);
    }
    transaction.commit();
  } catch (const SqliteError& error) {
    // A store that cannot be written now still answers; readers infer the
    // same, and the next writer stores it.
    if (cannotWriteNow(error)) return 0;
    throw;
  }
  return reaped;
}

}  // namespace jobtape::store
