#include "recorder/inspect/debug_shell.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>

#include "recorder/events/event_reader.h"
#include "recorder/home_layer.h"
#include "store/job_dir.h"

namespace jobtape::recorder {

namespace fs = std::filesystem;

namespace {

class DiscardOutput : public sandbox::RunObserver {
 public:
  void onOutput(sandbox::Stream, uint64_t, std::span<const char>) override {}
};

bool covers(const std::string& mountPoint, const std::string& path) {
  if (mountPoint == "/" || mountPoint == path) return true;
  return path.size() > mountPoint.size() && path.compare(0, mountPoint.size(), mountPoint) == 0 &&
         path[mountPoint.size()] == '/';
}

std::string insidePathOf(const sandbox::Mount& mount) {
  std::string path = mount.destination.empty() ? mount.source : mount.destination;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string outcomeText(const store::JobRow& job) {
  std::string status = store::jobStatusName(job.status);
  if (job.signal && *job.signal) return fmt::format("{}: signal {}", status, *job.signal);
  if (!job.outcome.empty() && job.outcome != "exited") return fmt::format("{}: {}", status, job.outcome);
  if (job.exitCode) return fmt::format("{}: exit {}", status, *job.exitCode);
  return status;
}

bool hasEnv(const std::vector<sandbox::EnvVar>& env, const std::string& name) {
  return std::any_of(env.begin(), env.end(), [&](const auto& v) { return v.name == name; });
}

// Whether two absolute paths are one inside the other (or the same).
bool overlaps(const fs::path& a, const fs::path& b) {
  auto [ai, bi] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return ai == a.end() || bi == b.end();
}

// A read-write bind of the root, or of anything holding the store or held
// in it, is more than any run gives a job: the root is bound read-only, and
// the store is the record the job must not rewrite.
void refuseWideBinds(const sandbox::Recipe& recipe, const store::JobRow& job, const fs::path& home) {
  fs::path store = home.lexically_normal();
  for (const auto& mount : recipe.mounts) {
    if (mount.kind != sandbox::Mount::Kind::bind) continue;
    fs::path source = fs::path(mount.source).lexically_normal();
    if (source == "/" || overlaps(source, store)) {
      throw DebugShellRefused(
          fmt::format("the store's record of job {} binds {} read-write, more than a run would ({}); it is not used",
                      job.id, mount.source, source == "/" ? "the root is read-only" : "the store is never bound"),
          "the store may have been written by someone else; check its permissions, or run the job anew");
    }
  }
}

// The recipe as the job ran it. Refuses what cannot be re-entered.
sandbox::Recipe recordedRecipe(const store::JobRow& job, const fs::path& home) {
  if (job.status == store::JobStatus::running) {
    throw DebugShellRefused(fmt::format("job {} is still running; its sandbox is in use", job.id),
                            fmt::format("follow it with 'jobtape job logs --follow {}'", job.id));
  }
  sandbox::Recipe recipe = readRecordedRecipe(job, home);
  if (!recipe.sandboxed) {
    throw DebugShellRefused(fmt::format("job {} ran without a sandbox (record only): there is no sandbox to re-enter", job.id),
                            fmt::format("run the command in {} yourself, or 'jobtape job retry --no-sandbox {}'",
                                        recipe.workDir.empty() ? std::string("its directory") : recipe.workDir, job.id));
  }
  return recipe;
}

// The job's kept writable state, in the job's directory.
fs::path keptStateDir(const store::JobRow& job, const fs::path& jobDir) {
  fs::path stateDir = store::stateDirIn(jobDir);
  std::error_code ec;
  auto status = stateDir.empty() ? fs::file_status() : fs::symlink_status(stateDir, ec);
  bool present = !ec && fs::is_directory(status);
  if (ec == std::errc::permission_denied) {
    throw DebugShellRefused(fmt::format("the kept sandbox state of job {} cannot be read: {}", job.id, ec.message()),
                            "run debug-shell as the user who ran the job");
  }
  if (job.status == store::JobStatus::succeeded && (!job.stateKept || !present)) {
    throw DebugShellRefused(fmt::format("job {} succeeded and its sandbox state was not kept; there is nothing to debug", job.id),
                            fmt::format("'jobtape job retry {}' runs it again; 'jobtape run --keep' keeps the state of a "
                                        "job that succeeds", job.id));
  }
  if (!present) {
    throw DebugShellRefused(fmt::format("the kept sandbox state of job {} is gone ({} is missing; removed by gc?)", job.id,
                                        stateDir.empty() ? std::string("its directory") : stateDir.string()),
                            fmt::format("'jobtape job retry {}' runs it again", job.id));
  }
  return stateDir;
}

// A recipe that maps "the caller's uid" would map whoever runs debug-shell;
// pin it to the uid the job actually had, which its events file records.
void pinIdentity(sandbox::Recipe& recipe, const store::JobRow& job, const fs::path& jobDir) {
  if (recipe.uid >= 0 && recipe.gid >= 0) return;
  auto reader = EventReader::openIfReadable(store::eventsFileIn(jobDir));
  if (!reader || reader->description().jobId != job.id) return;
  if (recipe.uid < 0) recipe.uid = reader->description().callerUid;
  if (recipe.gid < 0) recipe.gid = reader->description().callerGid;
}

bool existsInside(const sandbox::Recipe& recipe, const std::string& path) {
  auto host = hostPathOf(recipe, path);
  return host && ::access(host->c_str(), X_OK) == 0;
}

// $SHELL when the sandbox has it, else /bin/sh; for a command to find in the
// history, one that keeps a history.
std::string chooseShell(const sandbox::Recipe& recipe, bool withHistory) {
  std::string shell = "/bin/sh";
  for (const auto& var : recipe.env) {
    if (var.name != "SHELL" || var.value.empty() || var.value.front() != '/') continue;
    if (existsInside(recipe, var.value)) shell = var.value;
  }
  if (withHistory && !keepsHistory(shell) && existsInside(recipe, "/bin/bash")) return "/bin/bash";
  return shell;
}

// --process: its working directory; its command instead of a shell, or in
// the shell's history.
void startAtProcess(DebugShellPlan& plan, const DebugShellRequest& request, const fs::path& jobDir) {
  plan.process = findProcessToRerun(store::eventsFileIn(jobDir), plan.jobId, *request.process);
  if (!plan.process->cwd.empty()) plan.recipe.workDir = plan.process->cwd;
  if (!request.command.empty() || !request.rerun) return;
  plan.shell.clear();
  plan.recipe.command = plan.process->argv.front();
  plan.recipe.args.assign(plan.process->argv.begin() + 1, plan.process->argv.end());
}

void addHistory(DebugShellPlan& plan) {
  if (plan.shell.empty() || !plan.process || !keepsHistory(plan.shell)) return;
  if (plan.process->commandLine.find('\n') != std::string::npos) return;  // would be two lines of history
  plan.history = std::make_shared<HistoryFile>(plan.process->commandLine);
  plan.recipe.mounts.push_back({sandbox::Mount::Kind::bind, plan.history->path().string(), kHistoryPath});
  plan.options.extraEnv.push_back({"HISTFILE", kHistoryPath});
}

}  // namespace

sandbox::Recipe readRecordedRecipe(const store::JobRow& job, const fs::path& home) {
  sandbox::Recipe recipe;
  try {
    recipe = sandbox::recipeFromJson(job.recipeMeta);
  } catch (const std::exception& error) {
    throw DebugShellRefused(fmt::format("the store's record of job {}'s recipe cannot be read: {}", job.id, error.what()),
                            "the job can only be inspected with 'jobtape job logs'");
  }
  refuseWideBinds(recipe, job, home);
  return recipe;
}

std::optional<fs::path> hostPathOf(const sandbox::Recipe& recipe, const std::string& insidePath) {
  if (insidePath.empty() || insidePath.front() != '/') return std::nullopt;
  for (auto it = recipe.mounts.rbegin(); it != recipe.mounts.rend(); ++it) {
    std::string mountPoint = insidePathOf(*it);
    if (!covers(mountPoint, insidePath)) continue;
    if (it->kind == sandbox::Mount::Kind::tmpfs) return std::nullopt;
    std::string rest = mountPoint == "/" ? insidePath.substr(1) : insidePath.substr(mountPoint.size());
    while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
    return rest.empty() ? fs::path(it->source) : fs::path(it->source) / rest;
  }
  return std::nullopt;
}

DebugShellPlan planDebugShell(const fs::path& home, const store::JobRow& job, const DebugShellRequest& request) {
  fs::path jobDir;
  try {
    jobDir = store::jobDirectoryOf(home, job);
  } catch (const store::DamagedJobRow& damaged) {
    throw DebugShellRefused(damaged.what(), "jobtape uses no file through a damaged row; run the job anew");
  }
  DebugShellPlan plan;
  plan.jobId = job.id;
  plan.jobOutcome = outcomeText(job);
  plan.recipe = recordedRecipe(job, home);
  plan.missingSecrets = restoreSecrets(plan.recipe, request.secretLookup);
  plan.options.stateDir = keptStateDir(job, jobDir);
  plan.options.reuseState = true;
  plan.options.stdio = request.terminal ? sandbox::StdioMode::terminal : sandbox::StdioMode::inherit;
  plan.options.traceExecs = false;
  plan.options.hiddenPaths = {home.string()};
  if (auto lease = takeHomeLayer(home, plan.recipe, request.projectHash)) {
    plan.homeLayer = std::make_shared<store::HomeLayerLease>(std::move(*lease));
    plan.options.homeLayers = {plan.homeLayer->upper().string(), plan.homeLayer->work().string()};
  }
  pinIdentity(plan.recipe, job, jobDir);

  auto& recipe = plan.recipe;
  if (request.command.empty()) {
    plan.shell = chooseShell(recipe, request.process.has_value());
    recipe.command = plan.shell;
    recipe.args.clear();
  } else {
    recipe.command = request.command.front();
    recipe.args.assign(request.command.begin() + 1, request.command.end());
  }
  if (request.process) startAtProcess(plan, request, jobDir);
  // A person at a prompt: no wall-clock or CPU deadline.
  recipe.limits.timeoutMs = 0;
  recipe.limits.cpuSeconds = 0;
  plan.options.extraEnv.push_back({"JOBTAPE_DEBUG_SHELL", job.id});
  if (request.terminal && !request.callerTerm.empty() && !hasEnv(recipe.env, "TERM")) {
    plan.options.extraEnv.push_back({"TERM", request.callerTerm});
  }
  for (const auto& mount : recipe.mounts) {
    if (mount.kind == sandbox::Mount::Kind::bind) plan.writableBinds.push_back(insidePathOf(mount));
  }
  addHistory(plan);
  return plan;
}

std::vector<std::string> debugShellProcessLines(const DebugShellPlan& plan) {
  if (!plan.process) return {};
  const ProcessToRerun& process = *plan.process;
  std::string where = process.cwd.empty() ? std::string("its directory is not recorded") : "in " + process.cwd;
  std::string how = !plan.shell.empty() && plan.history ? "; Up + Enter runs it again"
                    : plan.shell.empty()                ? "; running it again"
                                                        : "";
  return {fmt::format("jobtape: process {} ({}), {}{}:", process.pid, process.status, where, how),
          "  " + process.commandLine};
}

std::string debugShellBanner(const DebugShellPlan& plan, const std::string& shortJobId) {
  std::string kept;
  for (const auto& mount : plan.recipe.mounts) {
    if (mount.kind == sandbox::Mount::Kind::tmpfs) kept += (kept.empty() ? "" : ", ") + insidePathOf(mount);
  }
  std::string writable;
  for (const auto& path : plan.writableBinds) writable += (writable.empty() ? "" : ", ") + path;
  return fmt::format("jobtape: {} in the sandbox of job {} ({}){}; {}{}",
                     plan.shell.empty() ? "running a command" : "debug shell (" + plan.shell + ")", shortJobId,
                     plan.jobOutcome,
                     kept.empty() ? std::string() : fmt::format(", {} as the job left it", kept),
                     writable.empty() ? std::string("no host directory is writable")
                                      : fmt::format("changes under {} are real (host directories)", writable),
                     plan.homeLayer ? "; $HOME is the project's kept home overlay" : "");
}

sandbox::RunResult runDebugShell(const DebugShellPlan& plan, const CancelToken* cancel) {
  DiscardOutput observer;
  return sandbox::run(plan.recipe, plan.options, observer, cancel);
}

}  // namespace jobtape::recorder
