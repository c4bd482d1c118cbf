// Retry and debug-shell of <jobtape/actions.h>: the store's record of a job
// made ready to run again (debug_shell.h reads and checks it), run through
// the public Recorder or the sandbox.
#include <jobtape/actions.h>

#include <filesystem>
#include <system_error>

#include "recorder/home_layer.h"
#include "recorder/inspect/debug_shell.h"
#include "recorder/inspect/home_reader.h"
#include "recorder/inspect/public_records.h"
#include "recorder/secret_env.h"

namespace jobtape {

namespace fs = std::filesystem;

std::optional<std::string> callerEnvironment(const std::string& name) { return recorder::callerEnv(name); }

std::string missingSecretWarning(const std::string& name) { return recorder::missingSecretWarning(name); }

namespace {

store::Store& storeOf(Home& home) {
  auto* store = recorder::storeHomeOf(home).store();
  if (!store) throw Error(Error::Kind::invalidArgument, "no jobs recorded yet in " + home.path().string());
  return *store;
}

// Runs `body`; a refusal of debug_shell.h becomes ActionRefused.
template <typename Body>
auto refusals(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const recorder::DebugShellRefused& refused) {
    throw ActionRefused(refused.what(), refused.hint());
  }
}

// The job's build project as recorded; when that row is gone, the recipe's
// work dir stands in for it.
ProjectOptions projectOf(store::Store& store, const store::JobRow& job, const Recipe& recipe) {
  for (const auto& project : store.projects(job.buildId)) {
    if (project.id != job.buildProjectId) continue;
    ProjectOptions options;
    if (!project.localProjectPath.empty()) options.localPath = project.localProjectPath;
    else options.registryName = project.registryProjectName;
    if (!project.projectHash.empty()) options.projectHash = project.projectHash;
    if (!options.localPath.empty() || !options.registryName.empty()) return options;
  }
  ProjectOptions fallback;
  fallback.localPath = recipe.workDir.empty() ? fs::current_path() : fs::path(recipe.workDir);
  return fallback;
}

}  // namespace

RetryPlan planRetry(Home& home, const JobRecord& job, const SecretLookup& secrets) {
  auto& store = storeOf(home);
  return recorder::publicErrors([&] {
    store::JobRow row = recorder::toStore(job);
    RetryPlan plan;
    plan.home = store.home();
    plan.job = job;
    plan.recipe = refusals([&] { return recorder::readRecordedRecipe(row, store.home()); });
    plan.project = projectOf(store, row, plan.recipe);
    plan.build.commandLine = "retry of job " + job.id;
    plan.build.cwd = fs::current_path();
    plan.build.retryOf = job.buildId;
    plan.missingSecrets = recorder::restoreSecrets(plan.recipe, secrets);
    return plan;
  });
}

JobResult retryJob(const RetryPlan& plan, const JobOptions& options) {
  auto recorder = Recorder::open({plan.home});
  auto build = recorder->beginBuild(plan.build);
  int64_t projectId = build->addProject(plan.project);
  JobResult result = build->run(plan.recipe, projectId, options);
  build->finish();
  return result;
}

namespace {

class PlannedDebugShell final : public DebugShell {
 public:
  explicit PlannedDebugShell(recorder::DebugShellPlan plan) : plan_(std::move(plan)) {}

  const Recipe& recipe() const noexcept override { return plan_.recipe; }
  const std::vector<std::string>& missingSecrets() const noexcept override { return plan_.missingSecrets; }
  std::string banner(const std::string& shortJobId) const override {
    return recorder::debugShellBanner(plan_, shortJobId);
  }

  std::vector<std::string> processLines() const override { return recorder::debugShellProcessLines(plan_); }
  DebugShellResult run(CancelToken* cancel) override {
    sandbox::RunResult result;
    try {
      result = recorder::runDebugShell(plan_, cancel);
    } catch (const std::system_error& error) {
      throw Error(Error::Kind::sandbox, error.what(), {}, error.code(), std::current_exception());
    }
    return {result.outcome, result.exitCode, result.signal, result.message,
            result.violatingSyscall};
  }

 private:
  recorder::DebugShellPlan plan_;
};

}  // namespace

namespace {

// The hash of the job's build project as Build::addProject stored it; ""
// when the row is gone (the layer is then that of an unnamed project).
std::string recordedProjectHash(store::Store& store, const store::JobRow& job) {
  for (const auto& project : store.projects(job.buildId)) {
    if (project.id != job.buildProjectId) continue;
    if (!project.projectHash.empty()) return project.projectHash;
    return recorder::defaultProjectHash(!project.localProjectPath.empty() ? project.localProjectPath
                                                                 : project.registryProjectName);
  }
  return {};
}

}  // namespace

std::unique_ptr<DebugShell> DebugShell::plan(Home& home, const JobRecord& job, const DebugShellOptions& options) {
  auto& store = storeOf(home);
  recorder::DebugShellRequest request;
  request.command = options.command;
  request.terminal = options.terminal;
  request.callerTerm = options.callerTerm;
  request.secretLookup = options.secrets;
  request.process = options.process;
  request.rerun = options.rerun;
  return recorder::publicErrors([&] {
    request.projectHash = recordedProjectHash(store, recorder::toStore(job));
    auto plan = refusals([&] { return recorder::planDebugShell(store.home(), recorder::toStore(job), request); });
    return std::make_unique<PlannedDebugShell>(std::move(plan));
  });
}

}  // namespace jobtape
