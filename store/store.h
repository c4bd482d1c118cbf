// The SQLite index of builds, build projects and jobs (jobtape.db).
//
// The events files are the record; this index finds them. Schema, migrations
// and the on-disk design comment live in store.cc / schema.cc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <jobtape/outcome.h>

#include "store/ulid.h"

namespace jobtape::store {

// The file at `path` is not a usable jobtape store (newer version, foreign
// SQLite database, not SQLite, corrupt). what() is one line naming the file
// and what to do. Never overwritten.
class StoreOpenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The home, or a file jobtape keeps there, is not safe to use: owned by
// someone else, writable by group or others, a symbolic link (home_safety.h).
// what() says which and why; hint() is the command that fixes it. The
// command line exits 1 with one line, as for every store it cannot open.
class StoreUnsafeError : public StoreOpenError {
 public:
  StoreUnsafeError(const std::string& message, std::string hint)
      : StoreOpenError(message), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// jobtape.db is damaged (SQLite reported SQLITE_CORRUPT or SQLITE_NOTADB,
// at open or in any later statement). what() is one line naming the file;
// hint() how to recover. The first detection leaves a marker file beside
// the database (kDamagedMarkerSuffix) and every later open refuses the
// store, so nothing more is written to a database known to be damaged.
class StoreDamagedError : public StoreOpenError {
 public:
  StoreDamagedError(const std::filesystem::path& database, const std::string& reason);
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// "jobtape.db" + this: the marker of a damaged database.
inline constexpr const char* kDamagedMarkerSuffix = "-damaged";

// A job row the store cannot vouch for: its id is not a ULID, or the path it
// records is not the job's directory in this home (job_dir.h). Listings skip
// such rows; commands that would use its files refuse; gc touches no file
// through it.
class DamagedJobRow : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An SQLite call failed; carries the extended result code and the SQL.
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int extendedCode, std::string sql, const std::string& message)
      : std::runtime_error(message), code_(extendedCode), sql_(std::move(sql)) {}
  int extendedCode() const { return code_; }
  const std::string& sql() const { return sql_; }

 private:
  int code_;
  std::string sql_;
};

// Where data lives: --home, else $JOBTAPE_HOME, else
// ${XDG_STATE_HOME:-$HOME/.local/state}/jobtape.
std::filesystem::path resolveHome(const std::optional<std::filesystem::path>& homeOption);

enum class JobStatus { running, succeeded, failed, abandoned };
const char* jobStatusName(JobStatus status);  // "running", "succeeded", ...

// A job's row keeps the first three figures of its ResourceUsage
// (<jobtape/outcome.h>): CPU times and peak memory.
using jobtape::ResourceUsage;

struct BuildStart {
  std::string commandLine;
  std::string cwd;
  std::string host;
  std::optional<std::string> parentJobId;  // nested build
  std::optional<std::string> retryOf;      // build id this one retries
  pid_t recorderPid = 0;                   // process holding the lease (0: this one)
};

struct ProjectSpec {
  std::string projectHash;
  std::string localProjectPath;     // may be empty
  std::string registryProjectName;  // may be empty
};

struct JobStart {
  std::string buildId;
  int64_t buildProjectId = 0;
  std::string recipeHash;
  std::string recipeMeta;  // JSON of the recipe (the store's record of it)
  std::string command;     // one-line command for listings
  std::string name;
  pid_t pid = 0;           // pid shown while it runs
  pid_t recorderPid = 0;   // process holding the lease
  std::string localPath;   // job directory (holds events.bin.zst)
};

struct JobFinish {
  JobStatus result = JobStatus::failed;  // succeeded | failed
  std::optional<int> exitCode;
  std::optional<int> signal;
  std::string outcome;  // outcomeName() of <jobtape/outcome.h>
  ResourceUsage rusage;
  bool stateKept = false;
};

// What a job's events file says the job finished with (its finish record),
// read from the job's directory; nullopt when the file has none. Lets a job
// whose recorder died after writing that record, before finishing the row,
// read as what it was rather than abandoned. Must not throw.
using FinishRecovery = std::function<std::optional<JobFinish>(const std::filesystem::path& jobDir)>;

struct JobRow {
  std::string id;
  std::string buildId;
  int64_t buildProjectId = 0;
  std::string projectPath;  // local path or registry name of its project
  int64_t startedAtMs = 0;
  std::optional<int64_t> stoppedAtMs;
  JobStatus status = JobStatus::running;
  std::optional<int> exitCode;
  std::optional<int> signal;
  std::string outcome;
  std::string recipeHash;
  std::string recipeMeta;
  std::string command;
  std::string name;
  pid_t pid = 0;
  pid_t recorderPid = 0;
  std::string localPath;
  int64_t heartbeatAtMs = 0;
  ResourceUsage rusage;
  bool stateKept = false;
};

struct BuildRow {
  std::string id;
  int64_t startedAtMs = 0;
  std::optional<int64_t> stoppedAtMs;
  // "succeeded" | "failed" | "abandoned" (its recorder went away before it
  // finished; counts as failed) | NULL while running
  std::optional<std::string> result;
  std::string commandLine;
  std::string cwd;
  std::string host;
  std::optional<std::string> parentJobId;
  std::optional<std::string> retryOf;
};

struct ProjectRow {
  int64_t id = 0;
  std::string buildId;
  std::string projectHash;
  std::string localProjectPath;
  std::string registryProjectName;
};

struct JobFilter {
  std::optional<JobStatus> status;
  std::optional<std::string> project;  // matches local path or registry name
  std::optional<std::string> buildId;
  int limit = 20;  // <= 0: no limit
  std::optional<int64_t> startedSinceMs;  // started at or after (unix ms)
};

class Store {
 public:
  // open: opens home/jobtape.db for writing, creating and migrating it if
  // needed. openReadOnlyIfExists: opens it for reading only, and returns
  // null only when there is no jobtape.db (nothing recorded yet). Both throw
  // StoreOpenError for everything else (unreadable, damaged, foreign file).
  static std::unique_ptr<Store> open(const std::filesystem::path& home, FinishRecovery recover = {});
  static std::unique_ptr<Store> openReadOnlyIfExists(const std::filesystem::path& home,
                                                     FinishRecovery recover = {});
  virtual ~Store() = default;

  virtual const std::filesystem::path& home() const = 0;
  // home/jobs/<id>, the only place a job's files are (job_dir.h). Throw
  // DamagedJobRow for an id that is not a ULID, or a row whose recorded
  // directory is not that one.
  std::filesystem::path jobDir(const std::string& jobId) const;
  std::filesystem::path jobDirOf(const JobRow& row) const;

  // Build life cycle.
  virtual std::string beginBuild(const BuildStart& start) = 0;
  virtual int64_t addProject(const std::string& buildId, const ProjectSpec& project) = 0;
  virtual std::string newJobId() = 0;  // ULID, monotonic
  virtual void beginJob(const std::string& jobId, const JobStart& start) = 0;
  virtual void setJobPid(const std::string& jobId, pid_t pid) = 0;
  // One transaction for all of them: a Recorder beats for its running jobs at once.
  virtual void heartbeat(const std::vector<std::string>& jobIds) = 0;
  virtual void finishJob(const std::string& jobId, const JobFinish& finish) = 0;
  // Result is computed: failed if any job or nested build failed.
  virtual std::string finishBuild(const std::string& buildId) = 0;
  // Ends a build as failed whatever its jobs say: a run it asked for was
  // refused (e.g. the disk is full) before it had a row.
  virtual void failBuild(const std::string& buildId) = 0;

  // Stores as abandoned the running jobs and builds whose lease lapsed
  // (lease.h), and fails the builds above them. A writer's step: readers
  // infer the same in memory and never write. Does nothing, without an
  // error, when the store cannot be written now (read-only, full, busy).
  // Returns the number of jobs and builds it marked.
  virtual int reapAbandoned() = 0;

  // WAL checkpoints are the owner's to run (store/schema.h): due once the WAL
  // holds kWalFramesDue frames; checkpoint() is a PASSIVE one (two
  // fdatasyncs), best made where no one waits for it. Throws StoreError.
  virtual bool checkpointDue() = 0;
  virtual void checkpoint() = 0;

  // Queries.
  virtual std::optional<JobRow> job(const std::string& jobId) = 0;
  virtual std::vector<JobRow> jobs(const JobFilter& filter) = 0;
  virtual std::optional<BuildRow> build(const std::string& buildId) = 0;
  virtual std::vector<BuildRow> builds(int limit) = 0;
  // Every build started at or after `sinceMs` (unix ms), most recent first.
  virtual std::vector<BuildRow> buildsStartedSince(int64_t sinceMs) = 0;
  virtual std::vector<ProjectRow> projects(const std::string& buildId) = 0;
  virtual std::vector<BuildRow> childBuilds(const std::string& buildId) = 0;
  virtual std::vector<JobRow> jobsOfBuild(const std::string& buildId) = 0;
  // Shortest unique prefix of `jobId` among all job ids, at least minLength.
  virtual std::string shortestUniquePrefix(const std::string& jobId, size_t minLength = kShortIdLength) = 0;
  virtual void deleteJob(const std::string& jobId) = 0;
};

}  // namespace jobtape::store
