#include "recorder/job_runner.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <optional>

#include "recorder/events/event_writer.h"
#include "recorder/home_layer.h"
#include "recorder/job_command_line.h"
#include "recorder/job_files.h"
#include "recorder/recorder_host.h"
#include "recorder/secret_env.h"
#include "recorder/secret_mask.h"
#include "sandbox/mount_tree.h"
#include "sandbox/pid_cgroup.h"
#include "sandbox/recipe.h"
#include "sandbox/clock.h"
#include "sandbox/runner.h"

namespace jobtape::recorder {

namespace fs = std::filesystem;

namespace {

// Exit status of a job whose supervisor could not work at all.
constexpr int kSupervisorFailedStatus = 125;

std::string jobName(const Recipe& recipe) {
  if (!recipe.name.empty()) return recipe.name;
  return fs::path(recipe.command).filename().string();
}

struct PreparedJob {
  JobInfo info;
  JobFiles files;
  SecretMask mask;          // the recipe's secret values
  Recipe recorded;          // the recipe as recorded: secrets masked
  std::string recipeHash;   // of `recorded`: secret values do not change it
  store::JobStart start;  // the row, written when the sandbox's pid exists
  bool terminal = false;   // runs on terminals of its own
  // The project's home layer slot, held for the job's life (home_layer.h).
  std::optional<store::HomeLayerLease> homeLayer;
};

// What the recipe may not do whatever its caller: switch the sandbox off
// unasked, or show the job the store (the database, other jobs' events and
// kept /tmp), which the sandbox covers only where a bind shows all of it
// read-only.
void refuseUnsafe(const Recipe& recipe, const fs::path& home, const JobOptions& options) {
  if (!recipe.sandboxed) {
    if (options.allowUnsandboxed) return;
    throw Error(Error::Kind::recipe,
                "the recipe asks to run without the sandbox (\"sandboxed\": false), which the caller did not allow",
                "sandboxed");
  }
  for (const sandbox::Exposure& e : sandbox::exposuresOf(recipe, home.string())) {
    if (e.whole && !e.writable) continue;
    std::string field = "mounts[" + std::to_string(e.mountIndex) + "]";
    const Mount& m = recipe.mounts[e.mountIndex];
    throw Error(Error::Kind::recipe,
                e.whole ? "the jobtape home " + home.string() + " lies inside " + m.source +
                              ", which the job may write (" + field + "): the job could rewrite the store"
                        : field + " binds " + m.source + ", a part of the jobtape home " + home.string() +
                              ", into the job",
                field);
  }
}

// Validation first: a bad recipe leaves no trace in the store. The row is
// written once the sandbox's pid exists (RecordingObserver::onStarted).
PreparedJob prepareJob(LockedStore& store, const JobPlacement& placement, const Recipe& recipe,
                       const JobOptions& options) {
  PreparedJob job;
  std::string recipeJson;
  try {
    sandbox::validateRecipe(recipe);
    refuseUnsafe(recipe, store.home(), options);
    if (auto why = sandbox::pidsLimitUnavailable(recipe)) {
      throw sandbox::RecipeError("limits.maxProcesses", "--max-processes cannot be enforced for root here: " + *why);
    }
    job.mask = secretMaskOf(recipe);
    job.recorded = maskedRecipe(recipe, job.mask);
    job.recipeHash = sandbox::recipeHash(job.recorded);
    recipeJson = sandbox::recipeToJson(job.recorded);
  } catch (const sandbox::RecipeError& error) {
    throw Error(Error::Kind::recipe, error.what(),
                error.field(), {}, std::current_exception());
  }
  // Before anything is made for the job: a refused layer leaves no trace.
  job.homeLayer = takeHomeLayer(store.home(), recipe, placement.projectHash);
  job.info = {store.with([](store::Store& s) { return s.newJobId(); }), placement.buildId,
              jobName(job.recorded), placement.projectId};
  job.files = createJobFiles(store.home(), store.jobDir(job.info.jobId));
  job.start.buildId = placement.buildId;
  job.start.buildProjectId = placement.projectId;
  job.start.recipeHash = job.recipeHash;
  job.start.recipeMeta = std::move(recipeJson);
  job.start.command = displayCommand(job.recorded.command, job.recorded.args);
  job.start.name = job.recorded.name;
  job.start.recorderPid = ::getpid();
  job.start.localPath = job.files.dir.string();
  job.terminal = options.terminal;
  return job;
}

// Removes the directory of a job whose row was never written.
void discardJobFiles(const PreparedJob& job) noexcept {
  std::error_code ec;
  fs::remove_all(job.files.dir, ec);
}

JobDescription describe(const PreparedJob& job, const JobPlacement& placement, const Recipe& recipe) {
  JobDescription description;
  description.jobId = job.info.jobId;
  description.buildId = placement.buildId;
  description.recipe = job.recorded;
  description.recipeHash = job.recipeHash;
  description.host = placement.host;
  description.startedAtUnixNs = sandbox::unixNowNs();
  description.sandboxed = recipe.sandboxed;
  description.stateDir = job.files.stateDir.string();
  description.kernel = kernelRelease();
  description.callerUid = ::getuid();
  description.callerGid = ::getgid();
  description.terminal = job.terminal;
  return description;
}

// Ends the row of a job that never ran to a result of its own.
void finishBroken(LockedStore& store, const std::string& jobId) noexcept {
  try {
    store::JobFinish finish;
    finish.result = store::JobStatus::failed;
    finish.exitCode = kSupervisorFailedStatus;
    finish.outcome = sandbox::outcomeName(sandbox::Outcome::setupFailed);
    store.with([&](store::Store& s) { s.finishJob(jobId, finish); });
  } catch (...) {
    // Nothing more can be done; readers will see the job as abandoned.
  }
}

sandbox::RunResult supervisorFailure(const std::string& what) {
  sandbox::RunResult result;
  result.outcome = sandbox::Outcome::setupFailed;
  result.exitCode = kSupervisorFailedStatus;
  result.setupStep = "supervisor";
  result.message = "the sandbox supervisor failed: " + what;
  return result;
}

std::unique_ptr<EventWriter> createWriter(const PreparedJob& job, const JobDescription& description,
                                          bool durable) {
  try {
    return EventWriter::create(job.files.eventsFile, description,
                               durable ? Durability::always : Durability::onFailure);
  } catch (const std::exception& error) {
    auto code = [&]() -> std::error_code {
      if (auto* system = dynamic_cast<const std::system_error*>(&error)) return system->code();
      return {};
    }();
    throw Error(Error::Kind::io, std::string("cannot create the events file: ") + error.what(), {},
                code, std::current_exception());
  }
}

// Turns the sandbox's callbacks into the job's row, events, store updates
// and the caller's callbacks. The row and the events file are written in
// onStarted, while the child builds the sandbox and before the command runs;
// a failure there stops the job before it ran. Afterwards it never throws:
// the first failure to write the events file is kept and reported in the
// job's message.
class RecordingObserver final : public sandbox::RunObserver {
 public:
  RecordingObserver(LockedStore& store, PreparedJob& job, const JobPlacement& placement,
                    const Recipe& recipe, const JobOptions& options)
      : store_(store), job_(job), placement_(placement), recipe_(recipe), options_(options) {}

  void onStarted(pid_t hostPid) override {
    startRecording(hostPid);
    if (options_.onStarted) guard([&] { options_.onStarted(job_.info, hostPid); });
  }

  // For a run that ended before its pid existed (setup failed, supervisor
  // failure): the job is still recorded, with pid 0.
  void ensureStarted() {
    if (!writer_) startRecording(0);
  }

  // Secrets are masked before anything sees the output: the events file and
  // the caller's live echo get the same bytes (a terminal of a CI runner is a
  // log kept at rest too, and `job logs` then shows what was seen).
  void onOutput(sandbox::Stream stream, uint64_t elapsedNs, std::span<const char> bytes) override {
    std::string_view text(bytes.data(), bytes.size());
    if (job_.mask.empty()) return deliver(stream, elapsedNs, text);
    MaskedStream& masked = maskedStream(stream);
    lastElapsedNs_ = std::max(lastElapsedNs_, elapsedNs);
    deliver(stream, elapsedNs, masked.feed(text));
  }

  // Gives out the output held back by the masks (a possible start of a
  // secret at the very end), stamped with the latest event's time so that
  // the events file's times never go back.
  void finishOutput() {
    if (job_.mask.empty()) return;
    for (auto stream : {sandbox::Stream::stdout_, sandbox::Stream::stderr_}) {
      deliver(stream, lastElapsedNs_, maskedStream(stream).finish());
    }
  }

  void onExec(const sandbox::ExecRecord& exec) override {
    if (job_.mask.empty()) return record([&] { writer_->exec(exec); });
    lastElapsedNs_ = std::max(lastElapsedNs_, exec.elapsedNs);
    sandbox::ExecRecord masked = exec;
    masked.executable = job_.mask.maskText(exec.executable);
    for (auto& arg : masked.argv) arg = job_.mask.maskText(arg);
    masked.cwd = job_.mask.maskText(exec.cwd);
    record([&] { writer_->exec(masked); });
  }

  void onProcessExit(const sandbox::ProcessExitRecord& exit) override {
    lastElapsedNs_ = std::max(lastElapsedNs_, exit.elapsedNs);
    record([&] { writer_->processExit(exit); });
  }

  void onTracingIncomplete(const sandbox::TracingShortfall& shortfall) override {
    record([&] { writer_->tracingIncomplete(shortfall); });
  }

  // Whether a throw came from recording the start (then the command never ran).
  bool startFailed() const { return startFailed_; }
  bool rowWritten() const { return rowWritten_; }
  std::unique_ptr<EventWriter> takeWriter() { return std::move(writer_); }
  const std::optional<std::string>& writeError() const { return writeError_; }

 private:
  void startRecording(pid_t hostPid) {
    try {
      job_.start.pid = hostPid;
      store_.with([&](store::Store& s) { s.beginJob(job_.info.jobId, job_.start); });
      rowWritten_ = true;
      writer_ = createWriter(job_, describe(job_, placement_, recipe_), options_.durable);
      store_.checkpointInBackground();
    } catch (...) {
      startFailed_ = true;
      throw;
    }
  }

  void deliver(sandbox::Stream stream, uint64_t elapsedNs, std::string_view bytes) {
    if (bytes.empty()) return;
    record([&] { writer_->output(stream, elapsedNs, {bytes.data(), bytes.size()}); });
    if (options_.onOutput) {
      auto ours = stream == sandbox::Stream::stdout_ ? OutputStream::stdout_ : OutputStream::stderr_;
      guard([&] { options_.onOutput(job_.info, ours, bytes); });
    }
  }

  MaskedStream& maskedStream(sandbox::Stream stream) {
    return stream == sandbox::Stream::stdout_ ? stdoutMask_ : stderrMask_;
  }

  template <typename Body>
  void record(Body&& body) noexcept {
    if (writeError_ || !writer_) return;  // the file is broken; keep the job running
    try {
      body();
    } catch (const std::exception& error) {
      writeError_ = error.what();
    } catch (...) {
      writeError_ = "unknown failure";
    }
  }

  template <typename Body>
  static void guard(Body&& body) noexcept {
    try {
      body();
    } catch (...) {
      // A caller's callback must not throw; if it does, the job still ends properly.
    }
  }

  LockedStore& store_;
  PreparedJob& job_;
  const JobPlacement& placement_;
  const Recipe& recipe_;
  const JobOptions& options_;
  std::unique_ptr<EventWriter> writer_;
  bool rowWritten_ = false;
  bool startFailed_ = false;
  std::optional<std::string> writeError_;
  MaskedStream stdoutMask_{job_.mask};
  MaskedStream stderrMask_{job_.mask};
  uint64_t lastElapsedNs_ = 0;  // of the latest output, exec or exit event
};

// Undoes what a failed start recording left, then rethrows its error: the
// command never ran.
[[noreturn]] void abandonStart(LockedStore& store, const PreparedJob& job, bool rowWritten) {
  if (rowWritten) {
    removeStateTree(job.files.stateDir);
    finishBroken(store, job.info.jobId);
  } else {
    discardJobFiles(job);  // a directory no row points to
  }
  throw;
}

sandbox::RunResult runSandbox(LockedStore& store, const PreparedJob& job, const Recipe& recipe,
                              const JobOptions& options, RecordingObserver& observer) {
  sandbox::RunOptions runOptions;
  runOptions.stateDir = job.files.stateDir;
  runOptions.traceExecs = options.traceExecs;
  runOptions.stdio = options.terminal ? sandbox::StdioMode::jobTerminal : sandbox::StdioMode::capture;
  runOptions.input = options.input;
  runOptions.extraEnv = {{"JOBTAPE_JOB_ID", job.info.jobId}, {"JOBTAPE_HOME", store.home().string()}};
  runOptions.hiddenPaths = {store.home().string()};
  runOptions.homeLayers = homeLayersOf(job.homeLayer);
  auto beating = store.heartbeat().keep(job.info.jobId);
  return sandbox::run(recipe, runOptions, observer, options.cancel);
}

store::JobFinish finishOf(const sandbox::RunResult& result, bool stateKept) {
  store::JobFinish finish;
  finish.result = result.succeeded() ? store::JobStatus::succeeded : store::JobStatus::failed;
  finish.exitCode = result.exitCode;
  if (result.signal != 0) finish.signal = result.signal;
  finish.outcome = sandbox::outcomeName(result.outcome);
  finish.rusage = result.rusage;
  finish.stateKept = stateKept;
  return finish;
}

JobResult resultOf(const PreparedJob& job, const sandbox::RunResult& run, bool stateKept) {
  JobResult result;
  result.jobId = job.info.jobId;
  result.buildId = job.info.buildId;
  result.name = job.info.name;
  result.recipeHash = job.recipeHash;
  result.succeeded = run.succeeded();
  result.outcome = run.outcome;
  result.exitCode = run.exitCode;
  result.signal = run.signal;
  result.message = run.message;
  result.duration = std::chrono::nanoseconds(run.wallNs);
  result.rusage = run.rusage;
  result.eventsFile = job.files.eventsFile;
  result.stateDir = job.files.stateDir;
  result.stateKept = stateKept;
  result.setupStep = run.setupStep;
  result.setupErrno = run.setupErrno;
  result.violatingSyscall = run.violatingSyscall;
  return result;
}

// Failed jobs keep their state for debug-shell; succeeded ones only when
// asked. A record-only job has no state of its own.
bool settleState(const fs::path& home, const PreparedJob& job, const Recipe& recipe,
                 const sandbox::RunResult& run, bool keepState) {
  bool keep = recipe.sandboxed && (!run.succeeded() || keepState);
  if (keep) return true;
  return !dropStateTree(home, job.files, job.info.jobId);
}

// One line for JobResult::recordProblem; empty when the record is whole.
std::string recordProblemOf(const std::optional<std::string>& writeError,
                            const std::optional<std::string>& rowError) {
  std::string text;
  if (writeError) text = "its events file is incomplete (" + *writeError + ")";
  if (rowError) {
    if (!text.empty()) text += " and ";
    text += "its row in the store could not be finished (" + *rowError + ")";
  }
  return text;
}

}  // namespace

JobResult runJob(LockedStore& store, const JobPlacement& placement, const Recipe& recipe,
                 const JobOptions& options) {
  PreparedJob job = prepareJob(store, placement, recipe, options);
  RecordingObserver observer(store, job, placement, recipe, options);
  sandbox::RunResult run;
  std::exception_ptr supervisorError;
  try {
    run = runSandbox(store, job, recipe, options, observer);
  } catch (const std::exception& error) {
    if (observer.startFailed()) abandonStart(store, job, observer.rowWritten());
    supervisorError = std::current_exception();
    run = supervisorFailure(error.what());
  }
  try {
    observer.ensureStarted();
  } catch (...) {
    abandonStart(store, job, observer.rowWritten());
  }
  observer.finishOutput();
  std::unique_ptr<EventWriter> writer = observer.takeWriter();
  std::optional<std::string> writeError = observer.writeError();
  try {
    writer->finish(run);
  } catch (const std::exception& error) {
    if (!writeError) writeError = error.what();
  }
  writer.reset();
  bool stateKept = settleState(store.home(), job, recipe, run, options.keepState);
  std::optional<std::string> rowError;
  try {
    store.with([&](store::Store& s) { s.finishJob(job.info.jobId, finishOf(run, stateKept)); });
  } catch (const Error& error) {
    // The events file's finish record still tells (job_finish_recovery.h).
    rowError = plainStoreFailure(error);
  }
  if (supervisorError) {
    throw Error(Error::Kind::sandbox, run.message, {}, {}, supervisorError);
  }
  JobResult result = resultOf(job, run, stateKept);
  result.recordProblem = recordProblemOf(writeError, rowError);
  return result;
}

}  // namespace jobtape::recorder
