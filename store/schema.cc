// jobtape.db: the index of builds, build projects and jobs.
//
// Constraints
//   The events files (jobs/<id>/events.bin.zst) are the record of what a job
//   did; this database only finds them and answers listings, so it holds one
//   small row per build, per project of a build and per job, and an index for
//   every question the command line asks (most recent failed job, by status,
//   by project, by recipe hash, by pid, by id prefix, the jobs of a build, the
//   nested builds of a job, the running jobs). Many processes write at once:
//   every build tool run and every `jobtape run`, each possibly from several
//   threads.
//
// Layout
//   builds(id ULID, started_at, stopped_at, result, command_line, cwd, host,
//          parent_job_id, retry_of, recorder_pid, recorder_start_time,
//          lease_owner, heartbeat_at, abandoned)
//   build_projects(id, build_id -> builds, project_hash, local_project_path,
//          registry_project_name)
//   jobs(id ULID, build_id -> builds, build_projects_id -> build_projects,
//          started_at, stopped_at, result, exit_code, signal, outcome,
//          recipe_hash, recipe_meta, command, name, pid, recorder_pid,
//          lease_owner, local_path, heartbeat_at, user_cpu_ns, sys_cpu_ns,
//          max_rss_bytes, state_kept, deleting, recorder_start_time)
//   job_counts(result, n): visible jobs per result ('running' for NULL),
//          kept by triggers in the same transactions as the jobs rows, so
//          "-N: only 3 failed jobs recorded" needs no count over the table.
//   Times are milliseconds since the Unix epoch. Ids are 26-character
//   upper-case ULIDs stored as text: they sort by time, so "most recent" is
//   the largest id and an id prefix P is the range id >= P AND id < P || '~'.
//   Recipe hashes are lower-case hex SHA-256 and use the same range trick.
//   jobs.result is NULL while the job runs; 'abandoned' when its recorder went
//   away (see lease.h). builds.result is NULL until the build finishes, and
//   'failed' as soon as a job or a nested build failed, or its recorder went
//   away (then builds.abandoned = 1: shown as 'abandoned'). parent_job_id and
//   retry_of are deliberately not foreign keys: a nested build may be recorded
//   in another home than its parent job, and retention may remove the build
//   that was retried. jobs.deleting marks rows that retention is removing:
//   readers never see them (retention.h describes the order of the steps).
//
// Versioning
//   PRAGMA application_id is kApplicationId ('JbTp') and PRAGMA user_version
//   the schema version. Opening runs, in one BEGIN IMMEDIATE transaction, the
//   migration steps from the file's version up to kSchemaVersion, and sets
//   both pragmas in the same transaction, so a store is never half migrated
//   and concurrent first opens migrate exactly once. Steps are append-only:
//   a released step is never edited, a change is a new step. A file with a
//   higher user_version (a newer jobtape), another application id, tables
//   without our application id (someone else's database), or that SQLite
//   cannot read (not a database, corrupt) is refused before anything is
//   written to it.
//
// Recovery
//   WAL with synchronous=NORMAL: a crash of jobtape or of the machine's
//   processes loses nothing committed; a power loss may lose the last
//   transactions but never corrupts the file. Rows of jobs and builds whose
//   recorder died read as abandoned (inferred in memory by readers, stored by
//   the next writer); rows marked deleting are finished by the next gc.
#include "store/schema.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <chrono>
#include <thread>
#include <string_view>

namespace jobtape::store {

namespace {

constexpr std::string_view kStep1 = R"sql(
CREATE TABLE builds (
  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
  started_at INTEGER NOT NULL,
  stopped_at INTEGER,
  result TEXT CHECK (result IN ('succeeded', 'failed')),
  command_line TEXT NOT NULL DEFAULT '',
  cwd TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL DEFAULT '',
  parent_job_id TEXT,
  retry_of TEXT
);
CREATE INDEX builds_failed ON builds(id) WHERE result = 'failed';
CREATE INDEX builds_by_parent_job ON builds(parent_job_id) WHERE parent_job_id IS NOT NULL;

CREATE TABLE build_projects (
  id INTEGER PRIMARY KEY,
  build_id TEXT NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
  project_hash TEXT NOT NULL DEFAULT '',
  local_project_path TEXT NOT NULL DEFAULT '',
  registry_project_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX build_projects_by_build ON build_projects(build_id);
CREATE INDEX build_projects_by_path ON build_projects(local_project_path);
CREATE INDEX build_projects_by_registry ON build_projects(registry_project_name);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26),
  build_id TEXT NOT NULL REFERENCES builds(id),
  build_projects_id INTEGER REFERENCES build_projects(id),
  started_at INTEGER NOT NULL,
  stopped_at INTEGER,
  result TEXT CHECK (result IN ('succeeded', 'failed', 'abandoned')),
  exit_code INTEGER,
  signal INTEGER,
  outcome TEXT NOT NULL DEFAULT '',
  recipe_hash TEXT NOT NULL DEFAULT '',
  recipe_meta TEXT NOT NULL DEFAULT '',
  command TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0,
  recorder_pid INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  local_path TEXT NOT NULL DEFAULT '',
  heartbeat_at INTEGER NOT NULL,
  user_cpu_ns INTEGER NOT NULL DEFAULT 0,
  sys_cpu_ns INTEGER NOT NULL DEFAULT 0,
  max_rss_bytes INTEGER NOT NULL DEFAULT 0,
  state_kept INTEGER NOT NULL DEFAULT 0,
  deleting INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_build ON jobs(build_id, id);
CREATE INDEX jobs_by_project ON jobs(build_projects_id, id);
CREATE INDEX jobs_by_result ON jobs(result, id);
CREATE INDEX jobs_failed ON jobs(id) WHERE result IN ('failed', 'abandoned') AND deleting = 0;
CREATE INDEX jobs_running ON jobs(id) WHERE result IS NULL;
CREATE INDEX jobs_deleting ON jobs(id) WHERE deleting != 0;
CREATE INDEX jobs_by_recipe ON jobs(recipe_hash, id);
CREATE INDEX jobs_by_pid ON jobs(pid, id);

CREATE TABLE job_counts (
  result TEXT PRIMARY KEY NOT NULL,
  n INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs WHEN NEW.deleting = 0 BEGIN
  INSERT INTO job_counts VALUES (COALESCE(NEW.result, 'running'), 1)
    ON CONFLICT (result) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_update AFTER UPDATE OF result, deleting ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE OLD.deleting = 0 AND result = COALESCE(OLD.result, 'running');
  INSERT INTO job_counts SELECT COALESCE(NEW.result, 'running'), 1 WHERE NEW.deleting = 0
    ON CONFLICT (result) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs WHEN OLD.deleting = 0 BEGIN
  UPDATE job_counts SET n = n - 1 WHERE result = COALESCE(OLD.result, 'running');
END;
)sql";

// Builds get the jobs' lease (lease.h): the recorder's pid, its process
// start time, the lease owner and a heartbeat; jobs the recorder's start
// time. builds.abandoned marks a build whose recorder went away before it
// finished (its result is then 'failed', so every count of failures holds).
constexpr std::string_view kStep2 = R"sql(
ALTER TABLE builds ADD COLUMN recorder_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN recorder_start_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN heartbeat_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0;
UPDATE builds SET heartbeat_at = started_at;
CREATE INDEX builds_running ON builds(id) WHERE result IS NULL;
ALTER TABLE jobs ADD COLUMN recorder_start_time INTEGER NOT NULL DEFAULT 0;
)sql";

// Append-only: step N takes user_version N-1 to N.
constexpr std::array<std::string_view, kSchemaVersion> kSteps = {kStep1, kStep2};

struct Header {
  int64_t applicationId = 0;
  int64_t userVersion = 0;
  int64_t objects = 0;  // entries in sqlite_schema
  int64_t ourTables = 0;
};

// Call inside a transaction (see readHeaderSnapshot).
Header readHeader(sqlite::Database& db) {
  Header header;
  header.applicationId = db.queryInt("PRAGMA application_id");
  header.userVersion = db.queryInt("PRAGMA user_version");
  header.objects = db.queryInt("SELECT count(*) FROM sqlite_schema");
  header.ourTables = db.queryInt(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('builds', 'build_projects', 'jobs')");
  return header;
}

// One snapshot: another process may commit its migration between two of the
// reads, and a mix of before and after would look like a foreign file.
Header readHeaderSnapshot(sqlite::Database& db) {
  sqlite::Transaction snapshot(db, sqlite::Transaction::Kind::deferred);
  Header header = readHeader(db);
  snapshot.commit();
  return header;
}

// Switching to WAL needs an exclusive lock and SQLite does not run the busy
// handler for it, so processes opening a new store together retry here. Once
// one has switched, the mode is persistent and the others only read it.
void enableWal(sqlite::Database& db) {
  for (int attempt = 0;; ++attempt) {
    try {
      db.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (const SqliteError& error) {
      if ((error.extendedCode() & 0xff) != SQLITE_BUSY || attempt >= 500) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

// Throws StoreOpenError when the header is not one this jobtape may use.
void checkHeader(const Header& header, const std::filesystem::path& path) {
  auto file = path.string();
  if (header.applicationId != kApplicationId) {
    if (header.applicationId == 0 && header.userVersion == 0 && header.objects == 0) return;  // empty
    if (header.applicationId == 0) {
      throw StoreOpenError(fmt::format(
          "{} is an SQLite database of another program, not a jobtape store; it was left untouched", file));
    }
    throw StoreOpenError(fmt::format(
        "{} is an SQLite database of another program (application id {:#010x}), not a jobtape store; "
        "it was left untouched",
        file, static_cast<uint32_t>(header.applicationId)));
  }
  if (header.userVersion > kSchemaVersion) {
    throw StoreOpenError(fmt::format(
        "{} was written by a newer jobtape (store schema {}, this jobtape reads up to {}); upgrade jobtape",
        file, header.userVersion, kSchemaVersion));
  }
  if (header.userVersion < 1 || header.ourTables != 3) {
    throw StoreOpenError(fmt::format(
        "{} is a damaged jobtape store (schema {}, {} of its 3 tables); it was left untouched", file,
        header.userVersion, header.ourTables));
  }
}

[[noreturn]] void refuseUnreadable(const SqliteError& error, const std::filesystem::path& path) {
  int primary = error.extendedCode() & 0xff;
  auto file = path.string();
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_PERM || primary == SQLITE_READONLY) {
    throw StoreOpenError(fmt::format("cannot open {} for writing ({}); check its permissions", file,
                                     sqlite3_errstr(error.extendedCode())));
  }
  throw StoreOpenError(fmt::format("cannot open {}: {}", file, error.what()));
}

void migrate(sqlite::Database& db, const std::filesystem::path& path) {
  sqlite::Transaction transaction(db);
  // Re-read under the write lock: another process may have migrated since.
  Header header = readHeader(db);
  if (header.applicationId == kApplicationId && header.userVersion == kSchemaVersion) return;
  if (!(header.applicationId == kApplicationId && header.userVersion < kSchemaVersion)) {
    checkHeader(header, path);
  }
  for (auto step = header.userVersion; step < kSchemaVersion; ++step) {
    db.exec(kSteps[static_cast<size_t>(step)]);
  }
  db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
  db.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  transaction.commit();
}

// A database found damaged once stays refused until `gc --recover`.
void refuseIfMarkedDamaged(const std::filesystem::path& path) {
  std::filesystem::path marker = path.string() + kDamagedMarkerSuffix;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(marker, ec))) return;
  std::ifstream in(marker);
  std::string reason;
  std::getline(in, reason);
  throw StoreDamagedError(path, reason.empty() ? std::string("marked damaged") : reason);
}

}  // namespace

StoreDamagedError::StoreDamagedError(const std::filesystem::path& database, const std::string& reason)
    : StoreOpenError(fmt::format("the store {} is damaged ({})", database.string(), reason)),
      hint_("see: jobtape gc --recover (rebuilds it from the events files)") {}

void migrateTo(sqlite::Database& db, int version) {
  sqlite::Transaction transaction(db);
  auto from = db.queryInt("PRAGMA user_version");
  for (auto step = from; step < version && step < kSchemaVersion; ++step) {
    db.exec(kSteps[static_cast<size_t>(step)]);
  }
  db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
  db.exec(fmt::format("PRAGMA user_version = {}", version));
  transaction.commit();
}

sqlite::Database openStoreDatabase(const std::filesystem::path& path, bool createIfMissing) {
  refuseIfMarkedDamaged(path);
  try {
    auto db = sqlite::Database::open(
        path, createIfMissing ? sqlite::Database::Mode::readWriteCreate : sqlite::Database::Mode::readWrite);
    Header header = readHeaderSnapshot(db);
    bool fresh = header.applicationId == 0 && header.userVersion == 0 && header.objects == 0;
    if (!fresh) checkHeader(header, path);
    enableWal(db);
    db.exec("PRAGMA synchronous = NORMAL");
    // Readers keep what they infer (temp.lapsed_*) in memory: they write
    // nothing to the disk, which may be full.
    db.exec("PRAGMA temp_store = MEMORY");
    db.exec("PRAGMA foreign_keys = ON");
    // The WAL outlives each command (see Database::open), and the first
    // connection of a process rebuilds its index by reading every frame:
    // checkpoints keep it short. A checkpoint costs two fdatasyncs (about
    // 1.7 ms here); the store's owner runs it where no one waits, once
    // checkpointDue() (a recorder: beside a job that runs, on a thread of
    // its own). A commit checkpoints by itself only past kWalFramesBackstop,
    // for a process that writes and runs no jobs (gc).
    db.checkpointCommitsPast(kWalFramesBackstop);
    if (header.userVersion < kSchemaVersion) migrate(db, path);
    return db;
  } catch (const SqliteError& error) {
    refuseUnreadable(error, path);
  }
}

}  // namespace jobtape::store
