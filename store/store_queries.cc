// Read side of the SQLite store. Every query is answered from an index (see
// schema.cc); each first infers, in memory, which running jobs and builds
// lost their recorder (store_leases.cc), and reads them as abandoned. No
// query writes to the database.
#include <fmt/format.h>

#include <algorithm>

#include "store/sqlite_store.h"
#include "store/ulid.h"

namespace jobtape::store {

namespace {

// A running row's column as a lapsed job (temp.lapsed_jobs) reads it.
std::string lapsed(const std::string& column, const std::string& otherwise) {
  return "CASE WHEN j.result IS NULL THEN COALESCE((SELECT l." + column +
         " FROM temp.lapsed_jobs l WHERE l.id = j.id), " + otherwise + ") ELSE " + otherwise + " END";
}

// Columns of a JobRow, in readJob()'s order.
const std::string kJobSelect =
    "SELECT j.id, j.build_id, j.build_projects_id, "
    "COALESCE(NULLIF(p.local_project_path, ''), p.registry_project_name, ''), "
    "j.started_at, " + lapsed("heartbeat_at", "j.stopped_at") + ", " +
    "COALESCE(j.result, (SELECT COALESCE(l.result, 'abandoned') FROM temp.lapsed_jobs l WHERE l.id = j.id)), " +
    lapsed("exit_code", "j.exit_code") + ", " + lapsed("signal", "j.signal") + ", " +
    lapsed("outcome", "j.outcome") + ", j.recipe_hash, j.recipe_meta, "
    "j.command, j.name, j.pid, j.recorder_pid, j.local_path, j.heartbeat_at, " +
    lapsed("user_cpu_ns", "j.user_cpu_ns") + ", " + lapsed("sys_cpu_ns", "j.sys_cpu_ns") + ", " +
    lapsed("max_rss_bytes", "j.max_rss_bytes") + ", j.state_kept "
    "FROM jobs j LEFT JOIN build_projects p ON p.id = j.build_projects_id ";

const std::string kBuildSelect =
    "SELECT b.id, b.started_at, "
    "COALESCE(b.stopped_at, (SELECT max(l.heartbeat_at, b.started_at) FROM temp.lapsed_builds l WHERE l.id = b.id)), "
    "CASE WHEN b.abandoned != 0 THEN 'abandoned' "
    "ELSE COALESCE(b.result, (SELECT 'abandoned' FROM temp.lapsed_builds l WHERE l.id = b.id)) END, "
    "b.command_line, b.cwd, b.host, b.parent_job_id, "
    "b.retry_of FROM builds b ";

// End of the index range of ids or hashes starting with a prefix: every
// character of either sorts below '~'.
std::string rangeEnd(const std::string& prefix) { return prefix + "~"; }

JobStatus parseStatus(const std::optional<std::string>& text) {
  if (!text) return JobStatus::running;
  if (*text == "succeeded") return JobStatus::succeeded;
  if (*text == "abandoned") return JobStatus::abandoned;
  return JobStatus::failed;
}

JobRow readJob(const sqlite::Statement& s) {
  JobRow row;
  row.id = s.text(0);
  row.buildId = s.text(1);
  row.buildProjectId = s.optionalInt64(2).value_or(0);
  row.projectPath = s.text(3);
  row.startedAtMs = s.int64(4);
  row.stoppedAtMs = s.optionalInt64(5);
  row.status = parseStatus(s.optionalText(6));
  row.exitCode = s.optionalInt(7);
  row.signal = s.optionalInt(8);
  row.outcome = s.text(9);
  row.recipeHash = s.text(10);
  row.recipeMeta = s.text(11);
  row.command = s.text(12);
  row.name = s.text(13);
  row.pid = static_cast<pid_t>(s.int64(14));
  row.recorderPid = static_cast<pid_t>(s.int64(15));
  row.localPath = s.text(16);
  row.heartbeatAtMs = s.int64(17);
  row.rusage.userCpu = std::chrono::nanoseconds(s.int64(18));
  row.rusage.systemCpu = std::chrono::nanoseconds(s.int64(19));
  row.rusage.maxRssBytes = static_cast<uint64_t>(s.int64(20));
  row.stateKept = s.int64(21) != 0;
  return row;
}

BuildRow readBuild(const sqlite::Statement& s) {
  BuildRow row;
  row.id = s.text(0);
  row.startedAtMs = s.int64(1);
  row.stoppedAtMs = s.optionalInt64(2);
  row.result = s.optionalText(3);
  row.commandLine = s.text(4);
  row.cwd = s.text(5);
  row.host = s.text(6);
  row.parentJobId = s.optionalText(7);
  row.retryOf = s.optionalText(8);
  return row;
}

std::vector<JobRow> readJobs(sqlite::Statement& s) {
  std::vector<JobRow> rows;
  while (s.step()) rows.push_back(readJob(s));
  return rows;
}

std::optional<JobRow> readOneJob(sqlite::Statement& s) {
  if (!s.step()) return std::nullopt;
  return readJob(s);
}

std::vector<BuildRow> readBuilds(sqlite::Statement& s) {
  std::vector<BuildRow> rows;
  while (s.step()) rows.push_back(readBuild(s));
  return rows;
}

std::string upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

// Ids are ULIDs minted when the row is written, never earlier than its
// started_at: every row started at or after `ms` has an id at or above this
// one, so the primary key narrows a time range before started_at decides.
std::string firstIdAt(int64_t ms) {
  UlidParts parts;
  parts.timeMs = static_cast<uint64_t>(std::max<int64_t>(ms, 0));
  return formatUlid(parts);
}

size_t commonPrefix(const std::string& a, const std::string& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

std::optional<JobRow> SqliteStore::job(const std::string& jobId) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql = kJobSelect + "WHERE j.id = ? AND j.deleting = 0";
  sqlite::Statement s(db_, sql);
  s.bind(1, upper(jobId));
  return readOneJob(s);
}

std::vector<JobRow> SqliteStore::jobs(const JobFilter& filter) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  std::string sql = kJobSelect + "WHERE j.deleting = 0";
  if (filter.status == JobStatus::running) {
    sql += " AND j.result IS NULL AND j.id NOT IN (SELECT id FROM temp.lapsed_jobs)";
  } else if (filter.status == JobStatus::abandoned) {
    sql += " AND (j.result = 'abandoned' OR j.id IN (SELECT id FROM temp.lapsed_jobs WHERE result IS NULL))";
  } else if (filter.status) {
    sql += " AND (j.result = ? OR j.id IN (SELECT id FROM temp.lapsed_jobs WHERE result = ?))";
  }
  if (filter.project) {
    sql += " AND j.build_projects_id IN (SELECT id FROM build_projects WHERE local_project_path = ? "
           "UNION SELECT id FROM build_projects WHERE registry_project_name = ?)";
  }
  if (filter.buildId) sql += " AND j.build_id = ?";
  if (filter.startedSinceMs) sql += " AND j.id >= ? AND j.started_at >= ?";
  sql += " ORDER BY j.id DESC LIMIT ?";
  sqlite::Statement s(db_, sql);
  int index = 1;
  if (filter.status == JobStatus::succeeded || filter.status == JobStatus::failed) {
    s.bind(index++, jobStatusName(*filter.status));
    s.bind(index++, jobStatusName(*filter.status));
  }
  if (filter.project) {
    s.bind(index++, *filter.project);
    s.bind(index++, *filter.project);
  }
  if (filter.buildId) s.bind(index++, *filter.buildId);
  if (filter.startedSinceMs) {
    s.bind(index++, firstIdAt(*filter.startedSinceMs));
    s.bind(index++, *filter.startedSinceMs);
  }
  s.bind(index, filter.limit > 0 ? static_cast<int64_t>(filter.limit) : int64_t{-1});
  return readJobs(s);
}

std::optional<BuildRow> SqliteStore::build(const std::string& buildId) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql = kBuildSelect + "WHERE b.id = ?";
  sqlite::Statement s(db_, sql);
  s.bind(1, upper(buildId));
  auto rows = readBuilds(s);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::vector<BuildRow> SqliteStore::builds(int limit) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql = kBuildSelect + "ORDER BY b.id DESC LIMIT ?";
  sqlite::Statement s(db_, sql);
  s.bind(1, limit > 0 ? static_cast<int64_t>(limit) : int64_t{-1});
  return readBuilds(s);
}

std::vector<BuildRow> SqliteStore::buildsStartedSince(int64_t sinceMs) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql = kBuildSelect + "WHERE b.id >= ? AND b.started_at >= ? ORDER BY b.id DESC";
  sqlite::Statement s(db_, sql);
  s.bind(1, firstIdAt(sinceMs));
  s.bind(2, sinceMs);
  return readBuilds(s);
}

std::vector<ProjectRow> SqliteStore::projects(const std::string& buildId) {
  std::lock_guard lock(mutex_);
  sqlite::Statement s(db_,
                      "SELECT id, build_id, project_hash, local_project_path, registry_project_name "
                      "FROM build_projects WHERE build_id = ? ORDER BY id");
  s.bind(1, upper(buildId));
  std::vector<ProjectRow> rows;
  while (s.step()) rows.push_back(ProjectRow{s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  return rows;
}

std::vector<BuildRow> SqliteStore::childBuilds(const std::string& buildId) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql =
      kBuildSelect + "WHERE b.parent_job_id IN (SELECT id FROM jobs WHERE build_id = ?) ORDER BY b.id";
  sqlite::Statement s(db_, sql);
  s.bind(1, upper(buildId));
  return readBuilds(s);
}

std::vector<JobRow> SqliteStore::jobsOfBuild(const std::string& buildId) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql = kJobSelect + "WHERE j.build_id = ? AND j.deleting = 0 ORDER BY j.id";
  sqlite::Statement s(db_, sql);
  s.bind(1, upper(buildId));
  return readJobs(s);
}

std::string SqliteStore::shortestUniquePrefix(const std::string& jobId, size_t minLength) {
  std::string id = upper(jobId);
  std::lock_guard lock(mutex_);
  // With ids sorted, only the two neighbours can share a longer prefix.
  size_t shared = 0;
  for (const char* sql : {"SELECT max(id) FROM jobs WHERE id < ?", "SELECT min(id) FROM jobs WHERE id > ?"}) {
    sqlite::Statement s(db_, sql);
    s.bind(1, id);
    if (s.step() && !s.isNull(0)) shared = std::max(shared, commonPrefix(id, s.text(0)));
  }
  size_t length = std::max(shared + 1, minLength);
  return id.substr(0, std::min(length, id.size()));
}

std::optional<JobRow> SqliteStore::recentJob(JobKind kind, int64_t offset) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  // The offset walks the index alone; only the row found is read.
  static const std::string any =
      kJobSelect + "WHERE j.id = (SELECT id FROM jobs WHERE deleting = 0 ORDER BY id DESC LIMIT 1 OFFSET ?)";
  static const std::string failed =
      kJobSelect + "WHERE j.id = (SELECT id FROM jobs WHERE result IN ('failed', 'abandoned') AND deleting = 0 "
                   "ORDER BY id DESC LIMIT 1 OFFSET ?)";
  // Only when some job lapsed: the union costs a sort of the failed ones.
  static const std::string failedOrLapsed =
      kJobSelect + "WHERE j.id = (SELECT id FROM (SELECT id FROM jobs WHERE result IN ('failed', 'abandoned') "
                   "AND deleting = 0 UNION SELECT id FROM temp.lapsed_jobs WHERE result IS NULL OR result = 'failed') "
                   "ORDER BY id DESC LIMIT 1 OFFSET ?)";
  sqlite::Statement s(db_, kind == JobKind::failed ? (lapsedJobs_ > 0 ? failedOrLapsed : failed) : any);
  s.bind(1, offset);
  return readOneJob(s);
}

std::optional<JobRow> SqliteStore::recentRunningJob() {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();  // a job whose recorder is gone is abandoned, not running
  static const std::string sql =
      kJobSelect + "WHERE j.id = (SELECT id FROM jobs WHERE result IS NULL AND deleting = 0 "
                   "AND id NOT IN (SELECT id FROM temp.lapsed_jobs) ORDER BY id DESC LIMIT 1)";
  sqlite::Statement s(db_, sql);
  return readOneJob(s);
}

int64_t SqliteStore::countJobs(JobKind kind) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  if (kind != JobKind::failed) return db_.queryInt("SELECT COALESCE(sum(n), 0) FROM job_counts");
  return db_.queryInt("SELECT count(*) FROM temp.lapsed_jobs WHERE result IS NULL OR result = 'failed'") +
         db_.queryInt("SELECT COALESCE(sum(n), 0) FROM job_counts WHERE result IN ('failed', 'abandoned')");
}

std::vector<JobRow> SqliteStore::jobsWithIdPrefix(const std::string& prefix, int limit) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql = kJobSelect + "WHERE j.id >= ? AND j.id < ? AND j.deleting = 0 ORDER BY j.id LIMIT ?";
  sqlite::Statement s(db_, sql);
  s.bind(1, prefix).bind(2, rangeEnd(prefix)).bind(3, static_cast<int64_t>(limit));
  return readJobs(s);
}

std::vector<std::string> SqliteStore::recipeHashesWithPrefix(const std::string& prefix, int limit) {
  std::lock_guard lock(mutex_);
  // One seek per distinct hash, however many jobs share it.
  std::vector<std::string> hashes;
  std::string from = prefix;
  bool inclusive = true;
  while (static_cast<int>(hashes.size()) < limit) {
    sqlite::Statement s(db_, inclusive ? "SELECT min(recipe_hash) FROM jobs WHERE recipe_hash >= ? AND recipe_hash < ?"
                                       : "SELECT min(recipe_hash) FROM jobs WHERE recipe_hash > ? AND recipe_hash < ?");
    s.bind(1, from).bind(2, rangeEnd(prefix));
    if (!s.step() || s.isNull(0)) break;
    from = s.text(0);
    hashes.push_back(from);
    inclusive = false;
  }
  return hashes;
}

std::optional<JobRow> SqliteStore::recentJobOfRecipe(const std::string& recipeHash) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql =
      kJobSelect + "WHERE j.recipe_hash = ? AND j.deleting = 0 ORDER BY j.id DESC LIMIT 1";
  sqlite::Statement s(db_, sql);
  s.bind(1, recipeHash);
  return readOneJob(s);
}

std::optional<JobRow> SqliteStore::recentJobWithPid(pid_t pid) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql = kJobSelect + "WHERE j.pid = ? AND j.deleting = 0 ORDER BY j.id DESC LIMIT 1";
  sqlite::Statement s(db_, sql);
  s.bind(1, static_cast<int64_t>(pid));
  return readOneJob(s);
}

std::optional<JobRow> SqliteStore::recentJobNamed(const std::string& name) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  // Newest first along the primary key: the scan stops at the first match.
  static const std::string sql = kJobSelect + "WHERE j.name = ? AND j.deleting = 0 ORDER BY j.id DESC LIMIT 1";
  sqlite::Statement s(db_, sql);
  s.bind(1, name);
  return readOneJob(s);
}

std::optional<BuildRow> SqliteStore::recentBuild(JobKind kind) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  // A nested build starts after its parent but belongs to it: `last` and
  // `failed` name top-level builds (nested ones are shown in their tree).
  static const std::string any = kBuildSelect + "WHERE b.parent_job_id IS NULL ORDER BY b.id DESC LIMIT 1";
  static const std::string failed =
      kBuildSelect + "WHERE b.result = 'failed' AND b.parent_job_id IS NULL ORDER BY b.id DESC LIMIT 1";
  static const std::string failedOrLapsed =
      kBuildSelect + "WHERE (b.result = 'failed' OR b.id IN (SELECT id FROM temp.lapsed_builds)) "
                     "AND b.parent_job_id IS NULL ORDER BY b.id DESC LIMIT 1";
  sqlite::Statement s(db_, kind == JobKind::failed ? (lapsedBuilds_ > 0 ? failedOrLapsed : failed) : any);
  auto rows = readBuilds(s);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::vector<BuildRow> SqliteStore::buildsWithIdPrefix(const std::string& prefix, int limit) {
  std::lock_guard lock(mutex_);
  inferLapsedLocked();
  static const std::string sql = kBuildSelect + "WHERE b.id >= ? AND b.id < ? ORDER BY b.id LIMIT ?";
  sqlite::Statement s(db_, sql);
  s.bind(1, prefix).bind(2, rangeEnd(prefix)).bind(3, static_cast<int64_t>(limit));
  return readBuilds(s);
}

}  // namespace jobtape::store
