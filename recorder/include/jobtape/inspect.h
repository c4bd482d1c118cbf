// Finding recorded jobs and builds: what a build tool needs to offer its own
// `job list / show / logs`. Standard C++ types only, like <jobtape/recorder.h>.
//
//   auto home = jobtape::Home::open({});
//   for (const auto& job : home->jobs({.status = jobtape::JobStatus::failed}).jobs) ...
//   jobtape::SelectedJob job = home->selectJob("-1");  // the selectors of `jobtape job`
//   auto events = home->events(job);                  // <jobtape/events.h>
//
// Renderings (logs, the job report, replay, JSON) are in <jobtape/views.h>;
// retry, debug-shell and gc in <jobtape/actions.h>. Every failure is a
// jobtape::Error; the classes below say which ones callers usually tell apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <jobtape/events.h>
#include <jobtape/recorder.h>

namespace jobtape {

enum class JobStatus { running, succeeded, failed, abandoned };
const char* jobStatusName(JobStatus status) noexcept;  // "running", "succeeded", ...
std::optional<JobStatus> parseJobStatus(std::string_view name) noexcept;

// A job as the store records it (the `jobs` row; times are unix ms).
// `abandoned`: its recorder died while it ran.
struct JobRecord {
  std::string id{};  // a ULID
  std::string buildId{};
  int64_t buildProjectId = 0;
  std::string projectPath{};  // its project's local path or registry name
  int64_t startedAtMs = 0;
  std::optional<int64_t> stoppedAtMs{};
  JobStatus status = JobStatus::running;
  std::optional<int> exitCode{};
  std::optional<int> signal{};
  std::string outcome{};  // outcomeName() spelling; empty while running
  std::string recipeHash{};
  std::string recipeMeta{};  // the recorded recipe's JSON (secret values "***")
  std::string command{};     // one line, for listings
  std::string name{};
  int pid = 0;          // host pid of the job while it ran
  int recorderPid = 0;  // the process that recorded it
  std::string localPath{};  // as recorded; Home::files() says where the files are
  int64_t heartbeatAtMs = 0;
  ResourceUsage rusage{};  // the row keeps CPU times and peak memory only
  bool stateKept = false;
};

// A build (unix ms). `shortId` is the shortest prefix no other build shares.
struct BuildRecord {
  std::string id{};
  std::string shortId{};
  int64_t startedAtMs = 0;
  std::optional<int64_t> stoppedAtMs{};
  std::optional<std::string> result{};  // "succeeded" | "failed"; nullopt while running
  std::string commandLine{};
  std::string cwd{};
  std::string host{};
  std::optional<std::string> parentJobId{};  // a build started inside that job
  std::optional<std::string> retryOf{};      // the build it retried
};

// "running" while the build has no result.
std::string buildResultName(const BuildRecord& build);

struct ProjectRecord {
  int64_t id = 0;
  std::string buildId{};
  std::string projectHash{};
  std::string localProjectPath{};     // one of the two is set
  std::string registryProjectName{};
};

// Where a job's files are: home/jobs/<id>, whatever its row says.
struct JobFiles {
  std::string shortId{};  // the shortest id prefix that selects it
  std::filesystem::path eventsFile{};
  std::optional<std::filesystem::path> stateDir{};  // only when the kept state exists
};

// The home cannot be used (Kind::store). what() is one line naming the file.
class HomeError : public Error {
 public:
  enum class Reason {
    unsafe,    // owned by another user, writable by others, a symlink: hint() is the fix
    unusable,  // jobtape.db is from a newer jobtape, or another program's
    damaged,   // jobtape.db is damaged (SQLITE_CORRUPT / NOTADB): hint() says how to recover
    notAStore, // a directory with files but no jobtape.db (HomeOptions::refuseForeign)
  };
  HomeError(Reason reason, const std::string& message, std::string hint = {}, std::exception_ptr cause = nullptr);
  Reason reason() const noexcept { return reason_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  Reason reason_;
  std::string hint_;
};

// A selector names no job (or build), or several (Kind::invalidArgument).
// what() is the one line. For an ambiguous selector candidates() holds the
// lines git would print after it: "The candidates are:", then one line each
// (id, status, started, command); empty otherwise.
class SelectorError : public Error {
 public:
  SelectorError(const std::string& message, std::vector<std::string> candidates);
  const std::vector<std::string>& candidates() const noexcept { return candidates_; }

 private:
  std::vector<std::string> candidates_;
};

// A job row the store cannot vouch for (Kind::store): its id is no ULID or
// its path is not its directory in this home. No file is used through it;
// listings leave it out, gc removes it once it is old enough.
class DamagedRecordError : public Error {
 public:
  explicit DamagedRecordError(const std::string& message);
};

// What a job selector named: a job of the store, or an events file given by
// path (read without the store: no record).
struct SelectedJob {
  std::optional<JobRecord> record{};
  std::filesystem::path eventsFile{};
};

// The filters of `jobtape job list`.
struct JobQuery {
  std::optional<JobStatus> status{};
  // A directory (taken as its canonical path, as recorded) or a registry name.
  std::optional<std::string> project{};
  std::optional<std::string> build{};  // a build selector: last, failed, an id prefix
  int limit = 20;                      // <= 0: all
  std::optional<int64_t> startedSinceMs{};
};

struct JobListing {
  std::vector<JobRecord> jobs{};     // most recent first
  std::vector<std::string> skipped{};  // one phrase for each damaged row left out
};

struct JobCounts {
  int total = 0;
  int succeeded = 0;
  int failed = 0;
  int abandoned = 0;
  int running = 0;
};

// A build with what `build list` and `build show` say of it, and the builds
// started inside its jobs (nested builds), oldest first.
struct BuildTree {
  BuildRecord build{};
  std::vector<ProjectRecord> projects{};
  JobCounts jobs{};
  std::optional<int64_t> durationMs{};  // nullopt while it runs
  std::vector<BuildTree> nested{};
  bool truncated = false;  // cut here: too deep, or a build reached twice
};

// `build check --failures N`: whether the last N finished builds (of one
// project) all failed. Running builds do not count; without a project only
// top-level builds count, with one every build that built it.
struct FailureCheck {
  int wanted = 0;
  std::optional<std::string> project{};
  std::vector<BuildRecord> considered{};  // up to N finished builds, most recent first
  bool locked = false;  // N finished builds and every one failed
  std::string verdict{};  // one line
};

// `build trace`: Chrome trace-event JSON (Perfetto) of a build and its nested builds.
struct BuildTrace {
  std::string json{};
  size_t jobs = 0;  // jobs of the build itself
};

// `jobtape history`: builds and jobs per local calendar day. Durations count
// finished ones; failed jobs include abandoned ones.
struct DurationStats {
  int64_t count = 0;
  int64_t totalMs = 0;
  int64_t medianMs = 0;
  int64_t maxMs = 0;
};
struct DayStats {
  std::string date{};  // YYYY-MM-DD
  int64_t builds = 0;
  int64_t failedBuilds = 0;
  DurationStats buildDurations{};
  int64_t jobs = 0;
  int64_t failedJobs = 0;
  int64_t abandonedJobs = 0;
  DurationStats jobDurations{};
};

// "YYYY-MM-DD" (local midnight) or an age ("7d", "12h") before `nowUnixMs`;
// nullopt for anything else.
std::optional<int64_t> parseSince(std::string_view text, int64_t nowUnixMs);

struct HomeOptions {
  // Default as for Recorder: $JOBTAPE_HOME, else ${XDG_STATE_HOME:-$HOME/.local/state}/jobtape.
  std::optional<std::filesystem::path> home{};
  // Refuse a directory that holds files but no jobtape.db (a mistyped home)
  // rather than read it as a home where nothing was recorded yet.
  bool refuseForeign = false;
};

// A jobtape home opened for reading. Nothing is created, and reading needs
// no write: a read-only store or a full disk can be read. Not thread-safe;
// open one per thread.
class Home {
 public:
  // Checks the home as every command does (owner, modes) and opens its
  // jobtape.db if there is one. Throws HomeError.
  static std::unique_ptr<Home> open(const HomeOptions& options = {});
  virtual ~Home() = default;

  virtual const std::filesystem::path& path() const noexcept = 0;
  // False: nothing was recorded here yet. Selectors then resolve only paths.
  virtual bool hasStore() const noexcept = 0;

  // Stores as abandoned the jobs and builds whose recorder is gone (and fails
  // the builds above them) when the store can be written now; otherwise does
  // nothing. Readers need not call it: every answer already shows such jobs
  // and builds as abandoned, inferred in memory, so reading works on a full
  // disk or a read-only store.
  virtual void markAbandoned() noexcept = 0;

  // ---- jobs --------------------------------------------------------------
  // The selectors of `jobtape job`: none or "failed" (the most recent failed
  // job), "last", "running" (the most recent running job), "-N", an id or recipe-hash prefix, a pid, the path of an
  // events file, job:X / recipe:X / pid:N. Throws SelectorError, or
  // DamagedRecordError for a job whose row is damaged.
  virtual SelectedJob selectJob(const std::optional<std::string>& selector) = 0;
  // The job to follow live (`job logs --follow`): as selectJob with a
  // selector; without one the most recent running job, else the most recent
  // failed one.
  virtual SelectedJob selectJobToFollow(const std::optional<std::string>& selector) = 0;
  // The record behind a selection: its own, or for an events file named by
  // path the job of this store that wrote it (same id, and the path is that
  // job's file). nullopt for a file from elsewhere: actions that rebuild a
  // job (retry, debug-shell) use the store's record, never a file alone.
  virtual std::optional<JobRecord> recordOf(const SelectedJob& selected) = 0;
  virtual std::optional<JobRecord> job(const std::string& jobId) = 0;
  // Throws SelectorError for a `build` selector that names no build.
  virtual JobListing jobs(const JobQuery& query) = 0;
  // Throws DamagedRecordError.
  virtual JobFiles files(const JobRecord& job) = 0;
  virtual std::string shortId(const std::string& jobId) = 0;
  // The selected job's events. A job that has just started may not have
  // written its first frame yet: that is waited for (up to 3 s). Following
  // stops when the store says the job ended. The Home must outlive them.
  // Throws EventsFileError.
  virtual std::unique_ptr<JobEvents> events(const SelectedJob& selected) = 0;

  // ---- builds ------------------------------------------------------------
  // "last" (default), "failed" (top-level builds: a nested build is part of
  // its parent) or an id prefix. Throws SelectorError.
  virtual BuildRecord selectBuild(const std::optional<std::string>& selector) = 0;
  // The `limit` most recent top-level builds (<= 0: all), each with its tree.
  virtual std::vector<BuildTree> builds(int limit) = 0;
  virtual BuildTree buildTree(const BuildRecord& build) = 0;
  // The build's jobs, by id, damaged rows left out.
  virtual JobListing jobsOfBuild(const std::string& buildId) = 0;
  // Throws Error (invalidArgument) when failures < 1.
  virtual FailureCheck checkFailures(int failures, const std::optional<std::string>& project) = 0;
  // Running builds and jobs end at `nowUnixMs`.
  virtual BuildTrace trace(const BuildRecord& build, int64_t nowUnixMs) = 0;
  // Days with a build or job started at or after `sinceUnixMs`, oldest first.
  virtual std::vector<DayStats> history(std::optional<int64_t> sinceUnixMs) = 0;
};

}  // namespace jobtape
