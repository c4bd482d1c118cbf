#include "tests/cli_view/view_history.h"

#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "recorder/job_command_line.h"
#include "sandbox/recipe.h"

namespace jobtape::testing {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kNsPerMs = 1'000'000;

int64_t unixNowNs() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

store::JobFinish finishOf(const sandbox::RunResult& result) {
  store::JobFinish finish;
  finish.result = result.succeeded() ? store::JobStatus::succeeded : store::JobStatus::failed;
  finish.exitCode = result.exitCode;
  if (result.signal) finish.signal = result.signal;
  finish.outcome = sandbox::outcomeName(result.outcome);
  finish.rusage = result.rusage;
  return finish;
}

sandbox::Recipe recipeOf(const JobSpec& spec) {
  sandbox::Recipe recipe;
  recipe.command = spec.command;
  recipe.args = spec.args;
  recipe.name = spec.name;
  recipe.env = {{"PATH", "/usr/bin:/bin"}, {"TERM", "xterm-256color"}};
  recipe.workDir = spec.project;
  recipe.mounts = {{sandbox::Mount::Kind::roBind, "/", ""}, {sandbox::Mount::Kind::bind, spec.project, ""},
                   {sandbox::Mount::Kind::tmpfs, "", "/tmp"}};
  recipe.limits.timeoutMs = 60'000;
  return recipe;
}

}  // namespace

sandbox::RunResult JobSpec::exited(int code, uint64_t wallMs) {
  sandbox::RunResult result;
  result.outcome = sandbox::Outcome::exited;
  result.exitCode = code;
  result.wallNs = wallMs * kNsPerMs;
  result.message = "exited with status " + std::to_string(code);
  result.rusage.userCpu = std::chrono::nanoseconds(12 * kNsPerMs);
  result.rusage.maxRssBytes = 3 << 20;
  return result;
}

sandbox::RunResult JobSpec::signaled(int signal, uint64_t wallMs) {
  sandbox::RunResult result = exited(128 + signal, wallMs);
  result.outcome = sandbox::Outcome::signaled;
  result.signal = signal;
  result.message = "killed by signal " + std::to_string(signal);
  return result;
}

LiveJob::LiveJob(store::Store& store, RecordedJob job, std::unique_ptr<recorder::EventWriter> writer)
    : store_(store), job_(std::move(job)), writer_(std::move(writer)) {}

void LiveJob::write(const Chunk& chunk) {
  writer_->output(chunk.stream, chunk.ms * kNsPerMs, chunk.bytes);
  writer_->flush();
  store_.heartbeat({job_.id});
}

void LiveJob::finish(const sandbox::RunResult& result) {
  writer_->finish(result);
  writer_.reset();
  store_.finishJob(job_.id, finishOf(result));
  store_.finishBuild(job_.buildId);
}

void LiveJob::finishInStoreOnly(const sandbox::RunResult& result) {
  writer_->flush();
  store_.finishJob(job_.id, finishOf(result));
  store_.finishBuild(job_.buildId);
}

History::History(fs::path home) : store_(store::Store::open(home)) {}
History::~History() = default;

std::unique_ptr<LiveJob> History::start(const JobSpec& spec) {
  sandbox::Recipe recipe = recipeOf(spec);
  store::BuildStart build;
  build.commandLine = "jobtape run -- " + recorder::displayCommand(spec.command, spec.args);
  build.cwd = spec.project;
  build.host = "testhost";
  RecordedJob job;
  job.buildId = store_->beginBuild(build);
  int64_t projectId = store_->addProject(job.buildId, {"p-" + spec.project, spec.project, ""});
  job.id = store_->newJobId();
  job.recipeHash = sandbox::recipeHash(recipe);
  job.dir = store_->jobDir(job.id);
  job.eventsFile = job.dir / "events.bin.zst";
  fs::create_directories(job.dir);

  store::JobStart start;
  start.buildId = job.buildId;
  start.buildProjectId = projectId;
  start.recipeHash = job.recipeHash;
  start.recipeMeta = sandbox::recipeToJson(recipe);
  start.command = recorder::displayCommand(spec.command, spec.args);
  start.name = spec.name;
  start.recorderPid = spec.recorderPid ? spec.recorderPid : ::getpid();
  start.localPath = job.dir.string();
  store_->beginJob(job.id, start);
  if (spec.pid) store_->setJobPid(job.id, spec.pid);

  recorder::JobDescription description;
  description.jobId = job.id;
  description.buildId = job.buildId;
  description.recipe = recipe;
  description.recipeHash = job.recipeHash;
  description.host = "testhost";
  description.startedAtUnixNs = unixNowNs();
  description.stateDir = (job.dir / "state").string();
  description.kernel = "6.18.0-test";
  auto writer = recorder::EventWriter::create(job.eventsFile, description);
  for (const auto& step : spec.steps) {
    if (auto* chunk = std::get_if<Chunk>(&step)) {
      writer->output(chunk->stream, chunk->ms * kNsPerMs, chunk->bytes);
      writer->flush();  // one frame a chunk: truncation tests get many frames
    } else if (auto* exec = std::get_if<sandbox::ExecRecord>(&step)) {
      writer->exec(*exec);
    } else {
      writer->processExit(std::get<sandbox::ProcessExitRecord>(step));
    }
  }
  return std::make_unique<LiveJob>(*store_, job, std::move(writer));
}

RecordedJob History::add(const JobSpec& spec) {
  auto live = start(spec);
  if (spec.result) {
    live->finish(*spec.result);
    // Like `run`: the sandbox's writable state is kept for failed jobs only.
    if (!spec.result->succeeded()) fs::create_directories(live->job().dir / "state");
  }
  return live->job();
}

std::string outputOf(const std::vector<Step>& steps, std::optional<sandbox::Stream> stream) {
  std::string text;
  for (const auto& step : steps) {
    if (auto* chunk = std::get_if<Chunk>(&step); chunk && (!stream || chunk->stream == *stream)) {
      text += chunk->bytes;
    }
  }
  return text;
}

}  // namespace jobtape::testing
