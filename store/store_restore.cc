// Rows rebuilt from events files (`jobtape gc --recover`): the events files
// are the record, so a fresh index can be filled from them alone. What only
// the lost database knew (a build's command line and cwd, its projects) is
// left empty.
#include "store/sqlite_store.h"
#include "store/ulid.h"

namespace jobtape::store {

void SqliteStore::restoreJob(const JobRow& job, const RestoredBuild& build) {
  if (!isUlid(job.id) || !isUlid(job.buildId)) return;  // names no directory, joins no build
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_);
  sqlite::Statement(db_,
                    "INSERT INTO builds (id, started_at, host, parent_job_id, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?2) "
                    "ON CONFLICT (id) DO UPDATE SET started_at = min(started_at, excluded.started_at)")
      .bind(1, job.buildId)
      .bind(2, job.startedAtMs)
      .bind(3, build.host)
      .bind(4, build.parentJobId)
      .run();
  sqlite::Statement insert(db_,
                           "INSERT OR IGNORE INTO jobs (id, build_id, started_at, stopped_at, result, exit_code, "
                           "signal, outcome, recipe_hash, recipe_meta, command, name, local_path, heartbeat_at, "
                           "user_cpu_ns, sys_cpu_ns, max_rss_bytes, state_kept) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, job.id).bind(2, job.buildId).bind(3, job.startedAtMs).bind(4, job.stoppedAtMs);
  insert.bind(5, jobStatusName(job.status)).bind(6, job.exitCode).bind(7, job.signal).bind(8, job.outcome);
  insert.bind(9, job.recipeHash).bind(10, job.recipeMeta).bind(11, job.command).bind(12, job.name);
  insert.bind(13, job.localPath).bind(14, job.stoppedAtMs.value_or(job.startedAtMs));
  insert.bind(15, job.rusage.userCpu.count()).bind(16, job.rusage.systemCpu.count()).bind(17, job.rusage.maxRssBytes);
  insert.bind(18, job.stateKept).run();
  transaction.commit();
}

void SqliteStore::settleRestoredBuilds() {
  std::lock_guard lock(mutex_);
  sqlite::Transaction transaction(db_);
  db_.exec(
      "UPDATE builds SET "
      "result = CASE WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.build_id = builds.id "
      "AND j.result IN ('failed', 'abandoned')) THEN 'failed' ELSE 'succeeded' END, "
      "stopped_at = (SELECT max(COALESCE(j.stopped_at, j.started_at)) FROM jobs j WHERE j.build_id = builds.id) "
      "WHERE result IS NULL");
  // A failed nested build fails the build of the job it ran in.
  db_.exec(
      "UPDATE builds SET result = 'failed' WHERE result = 'succeeded' AND EXISTS (SELECT 1 FROM builds c "
      "JOIN jobs j ON c.parent_job_id = j.id WHERE j.build_id = builds.id AND c.result = 'failed')");
  transaction.commit();
}

}  // namespace jobtape::store
