// `jobtape run`: wrap a build command, or run recipe files, as one recorded
// build. Argument parsing, signals and the closing hint live here (the relay
// of the jobs' output to the terminal is cli/output_relay); everything else is the library's Recorder.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <jobtape/text.h>
#include <map>
#include <set>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/failure_summary.h"
#include "cli/output_relay.h"
#include "cli/run_option_errors.h"
#include "cli/stop_signals.h"
#include "cli/write_all.h"

namespace jobtape::cli {

namespace fs = std::filesystem;

namespace {

struct RunArgs {
  std::vector<std::string> command;
  std::vector<std::string> recipeFiles;
  int jobs = 1;
  bool network = false;
  std::vector<std::string> binds, roBinds, tmpfs, env, secretEnv;
  // --bind, --ro-bind and --tmpfs as given, in command-line order: a mount
  // below another one must come after it.
  std::vector<std::pair<std::string, std::string>> mountOptions;
  bool cleanEnv = false;
  std::optional<std::string> timeout, memory, maxProcesses, project, name;
  bool noSandbox = false, quiet = false, keep = false, durable = false;
  bool tty = false, noTty = false;
  bool noHomeOverlay = false;
};

// ---- parsing option values -------------------------------------------------

uint64_t parseProcessCount(const std::string& text) {
  uint64_t count = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || count == 0) {
    throw usageError(fmt::format("--max-processes {}: not a positive whole number", escapeControl(text)),
                     "e.g. --max-processes 64");
  }
  return count;
}

uint64_t parseTimeoutMs(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > 1e9) {
    throw usageError(fmt::format("--timeout {}: not a positive number of seconds", text),
                     "e.g. --timeout 600 or --timeout 2.5");
  }
  return static_cast<uint64_t>(std::ceil(seconds * 1000.0));
}

uint64_t parseBytes(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string suffix = text.substr(digits);
  static const std::map<std::string, int> shifts = {
      {"", 0}, {"K", 10}, {"k", 10}, {"M", 20}, {"m", 20}, {"G", 30}, {"g", 30}, {"T", 40}, {"t", 40}};
  auto shift = shifts.find(suffix);
  uint64_t value = 0;
  bool ok = digits > 0 && digits <= 15 && shift != shifts.end();
  if (ok) value = std::stoull(text.substr(0, digits));
  if (!ok || value == 0 || value > (UINT64_MAX >> shift->second)) {
    throw usageError(fmt::format("--memory {}: not a size in bytes", text),
                     "e.g. --memory 2G, --memory 512M or --memory 1048576");
  }
  return value << shift->second;
}

// Absolute and normalised as recipes want them: no ".", "..", "//" or trailing "/".
fs::path absoluteFromCwd(const fs::path& path) {
  fs::path absolute = fs::absolute(path).lexically_normal();
  if (!absolute.has_filename() && absolute.has_relative_path()) absolute = absolute.parent_path();
  return absolute;
}

Mount parseBindSpec(const std::string& option, const std::string& spec, Mount::Kind kind) {
  auto colon = spec.find(':');
  std::string source = spec.substr(0, colon);
  std::string destination = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (source.empty()) {
    throw usageError(fmt::format("{} {}: no source path", option, spec), "use SRC or SRC:DST");
  }
  source = absoluteFromCwd(source).string();
  struct stat info {};
  if (::stat(source.c_str(), &info) != 0) {
    throw usageError(fmt::format("{} {}: {}: {}", option, spec, source, std::strerror(errno)),
                     "bind an existing host path");
  }
  if (!destination.empty() && destination.front() != '/') {
    throw usageError(fmt::format("{} {}: the destination must be an absolute path", option, spec),
                     "use SRC:/absolute/path");
  }
  return {kind, source, destination.empty() ? source : destination};
}

EnvVar parseEnv(const std::string& assignment) {
  auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw usageError(fmt::format("--env {}: not NAME=VALUE", assignment), "e.g. --env CC=clang");
  }
  return {assignment.substr(0, equals), assignment.substr(equals + 1)};
}

void setEnv(std::vector<EnvVar>& env, EnvVar variable) {
  for (auto& existing : env) {
    if (existing.name == variable.name) {
      existing.value = std::move(variable.value);
      return;
    }
  }
  env.push_back(std::move(variable));
}

// ---- building the recipes ---------------------------------------------------

// --no-sandbox is not among them: with --recipe it says that recipe files
// asking for no sandbox may run on the host.
void refuseRecipeShapingOptions(const RunArgs& args) {
  std::vector<std::string> given;
  if (args.network) given.push_back("--network");
  if (!args.binds.empty()) given.push_back("--bind");
  if (!args.roBinds.empty()) given.push_back("--ro-bind");
  if (!args.tmpfs.empty()) given.push_back("--tmpfs");
  if (!args.env.empty()) given.push_back("--env");
  if (args.cleanEnv) given.push_back("--clean-env");
  if (args.timeout) given.push_back("--timeout");
  if (args.memory) given.push_back("--memory");
  if (args.maxProcesses) given.push_back("--max-processes");
  if (args.name) given.push_back("--name");
  if (args.noHomeOverlay) given.push_back("--no-home-overlay");
  if (!given.empty()) {
    throw usageError(fmt::format("{} cannot be combined with --recipe", given.front()),
                     "a recipe file describes its whole sandbox; edit the file instead");
  }
}

// A path inside the sandbox: the caller's cwd means nothing there.
std::string tmpfsDestination(const std::string& dir) {
  if (dir.empty() || dir.front() != '/') {
    throw usageError(fmt::format("--tmpfs {}: not an absolute path", escapeControl(dir)),
                     "the directory is inside the sandbox, e.g. --tmpfs /var/cache/build");
  }
  return dir;
}

Recipe commandRecipe(const RunArgs& args, const fs::path& projectDir) {
  std::vector<std::string> rest(args.command.begin() + 1, args.command.end());
  Recipe recipe = defaultRecipe(args.command.front(), std::move(rest), projectDir);
  // The home stays the host's, read-only under "/".
  if (args.noHomeOverlay) {
    std::erase_if(recipe.mounts, [](const Mount& m) { return m.kind == Mount::Kind::homeOverlay; });
  }
  RunOptionOrigins origins;
  for (size_t i = 0; i < recipe.mounts.size(); ++i) origins.mount("");
  if (args.cleanEnv) recipe.env = {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}};
  for (const auto& assignment : args.env) setEnv(recipe.env, parseEnv(assignment));
  for (const auto& [option, value] : args.mountOptions) {
    if (option == "--tmpfs") {
      recipe.mounts.push_back({Mount::Kind::tmpfs, "", tmpfsDestination(value)});
    } else {
      recipe.mounts.push_back(parseBindSpec(option, value, option == "--bind" ? Mount::Kind::bind : Mount::Kind::roBind));
    }
    origins.mount(option + " " + value);
  }
  recipe.network = args.network;
  if (args.timeout) {
    recipe.limits.timeoutMs = parseTimeoutMs(*args.timeout);
    origins.field("limits.timeoutMs", "--timeout " + *args.timeout);
  }
  if (args.memory) {
    recipe.limits.memoryBytes = parseBytes(*args.memory);
    origins.field("limits.memoryBytes", "--memory " + *args.memory);
  }
  if (args.maxProcesses) {
    recipe.limits.maxProcesses = parseProcessCount(*args.maxProcesses);
    origins.field("limits.maxProcesses", "--max-processes " + *args.maxProcesses);
  }
  if (args.name) {
    recipe.name = *args.name;
    origins.field("name", "--name " + *args.name);
  }
  recipe.sandboxed = !args.noSandbox;
  try {
    checkRecipe(recipe);
  } catch (const Error& error) {
    throw usageError(inOptionTerms(error, origins), "check the run options");
  }
  return recipe;
}

Recipe loadRecipeFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in || fs::is_directory(file)) {
    throw usageError(fmt::format("cannot read recipe file {}: {}", escapeControl(file),
                                 fs::is_directory(file) ? "is a directory" : std::strerror(errno)),
                     "give the path of a JSON recipe file");
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return parseRecipe(text.str());
  } catch (const Error& error) {
    // "recipe.json:3:14: expected ',' or '}'" for JSON, "recipe.json: recipe
    // field ..." past it; what the file says (an unknown field's name) escaped.
    std::string message = error.what();
    bool positioned = !message.empty() && message[0] >= '1' && message[0] <= '9';
    throw usageError(escapeControl(file + (positioned ? ":" : ": ") + message),
                     "a recipe file is the JSON form of the Recipe struct in recipe.capnp");
  }
}

// ---- the terminal side --------------------------------------------------------

// ---- running ----------------------------------------------------------------

struct PlannedJob {
  Recipe recipe;
  std::string label;  // the -j line prefix
  fs::path project;   // the build project it belongs to
  int64_t projectId = 0;
};

struct Outcomes {
  std::vector<std::optional<JobResult>> results;
  std::vector<char> metReadOnly;  // one per job (char: threads write apart)
  std::exception_ptr firstError;
};

Outcomes runJobs(Build& build, const std::vector<PlannedJob>& jobs, int parallel,
                 const RunArgs& args, CancelToken& token) {
  Outcomes outcomes;
  outcomes.results.resize(jobs.size());
  outcomes.metReadOnly.resize(jobs.size(), 0);
  OutputRelay relay(args.quiet, parallel > 1 && jobs.size() > 1, token);
  // --tty / --no-tty, else: on terminals of their own when ours is one.
  const bool onTerminal = args.tty || (!args.noTty && ::isatty(STDOUT_FILENO));
  std::atomic<size_t> next{0};
  std::mutex errorMutex;
  auto worker = [&] {
    for (size_t i; !token.requested() && (i = next++) < jobs.size();) {
      JobOptions options;
      options.keepState = args.keep;
      options.durable = args.durable;
      options.allowUnsandboxed = args.noSandbox;
      options.cancel = &token;
      options.terminal = onTerminal;
      // Our stdin is one job's: with several, none gets it.
      options.input = jobs.size() == 1;
      options.onOutput = [&, i](const JobInfo&, OutputStream stream, std::string_view bytes) {
        relay.write(i, jobs[i].label, stream, bytes);
      };
      try {
        outcomes.results[i] = build.run(jobs[i].recipe, jobs[i].projectId, options);
      } catch (...) {
        std::lock_guard lock(errorMutex);
        if (!outcomes.firstError) outcomes.firstError = std::current_exception();
      }
      relay.endJob(i, jobs[i].label);
      outcomes.metReadOnly[i] = relay.metReadOnly(i);
    }
  };
  size_t threads = std::min<size_t>(static_cast<size_t>(std::max(parallel, 1)), jobs.size());
  if (threads <= 1) {
    worker();
    return outcomes;
  }
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();
  return outcomes;
}


void reportFailures(const CliContext& context, const Outcomes& outcomes) {
  std::vector<FailedJob> failed;
  std::unique_ptr<Home> home;
  for (size_t i = 0; i < outcomes.results.size(); ++i) {
    const auto& result = outcomes.results[i];
    if (!result || result->succeeded) continue;
    if (!home) home = openHome(context);
    failed.push_back({&*result, home->shortId(result->jobId), outcomes.metReadOnly[i] != 0});
  }
  printFailedJobs(context, failed, outcomes.results.size() > 1);
}

// Exit status of a run whose jobs all succeeded but whose record is
// incomplete.
constexpr int kIncompleteRecordStatus = 1;

// One warning line per job whose record is incomplete: what the job did is
// not all on record, whatever its own result.
void reportIncompleteRecords(const std::vector<std::optional<JobResult>>& results) {
  for (const auto& result : results) {
    if (!result || result->recordProblem.empty()) continue;
    std::cerr << fmt::format("jobtape: warning: the record of job {} is incomplete: {}\n", result->jobId,
                             escapeControl(result->recordProblem));
  }
}

int exitStatusOf(const Outcomes& outcomes, const CancelToken& token) {
  for (const auto& result : outcomes.results) {
    if (result && !result->succeeded) return result->exitCode;
  }
  if (token.requested()) return 128 + token.signal();
  // A job that succeeded with an incomplete record is no plain success.
  for (const auto& result : outcomes.results) {
    if (result && !result->recordProblem.empty()) return kIncompleteRecordStatus;
  }
  return 0;
}

// The words as typed, shell-quoted; the program as its file name, so the
// line reads the same whichever path reached the binary.
std::string buildCommandLine(const std::vector<std::string>& argv) {
  if (argv.empty()) return "jobtape run";
  std::string program = fs::path(argv.front()).filename().string();
  return displayCommand(program.empty() ? "jobtape" : program, {argv.begin() + 1, argv.end()});
}

// --secret-env names join each recipe's own secretEnv. It does not shape the
// sandbox, only what is recorded, so it goes with --recipe files too.
void addSecretEnv(Recipe& recipe, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
      throw usageError(fmt::format("--secret-env {}: not a variable name", name), "e.g. --secret-env DEPLOY_PASS");
    }
    if (std::find(recipe.secretEnv.begin(), recipe.secretEnv.end(), name) == recipe.secretEnv.end()) {
      recipe.secretEnv.push_back(name);
    }
  }
}

// A recipe's job belongs to the project of its workDir (unless --project
// says otherwise), so recipes of several projects make a build of several.
std::vector<PlannedJob> planJobs(const RunArgs& args, const fs::path& projectDir) {
  std::vector<PlannedJob> jobs;
  if (args.recipeFiles.empty()) {
    Recipe recipe = commandRecipe(args, projectDir);
    addSecretEnv(recipe, args.secretEnv);
    std::string label = recipe.name.empty() ? fs::path(recipe.command).filename().string() : recipe.name;
    jobs.push_back({std::move(recipe), label, projectDir});
    return jobs;
  }
  for (const auto& file : args.recipeFiles) {
    Recipe recipe = loadRecipeFile(file);
    // Before any job runs, naming the file (the library refuses it too).
    if (!recipe.sandboxed && !args.noSandbox) {
      throw usageError(fmt::format("recipe file {} asks to run without the sandbox (\"sandboxed\": false)",
                                   escapeControl(file)),
                       "add --no-sandbox to accept recipe files that run on the host");
    }
    addSecretEnv(recipe, args.secretEnv);
    std::string label = recipe.name.empty() ? fs::path(file).stem().string() : recipe.name;
    fs::path project = args.project || recipe.workDir.empty() ? projectDir
                                                              : projectRoot(absoluteFromCwd(recipe.workDir));
    jobs.push_back({std::move(recipe), label, project});
  }
  return jobs;
}

// `--env NAME=VALUE` of a secret NAME as `--env NAME=***`: the mask below
// leaves values shorter than its minimum alone, and those are still secrets.
std::vector<std::string> withSecretEnvMasked(std::vector<std::string> argv, const std::set<std::string>& secrets) {
  auto mask = [&](std::string& assignment, size_t from) {
    auto equals = assignment.find('=', from);
    if (equals != std::string::npos && secrets.count(assignment.substr(from, equals - from))) {
      assignment.replace(equals + 1, std::string::npos, "***");
    }
  };
  for (size_t i = 1; i < argv.size() && argv[i] != "--"; ++i) {
    if (argv[i] == "--env" && i + 1 < argv.size()) mask(argv[++i], 0);
    else if (argv[i].rfind("--env=", 0) == 0) mask(argv[i], 6);
  }
  return argv;
}

// The build's command line as recorded: a secret given on it (`jobtape run --
// curl -H "Bearer $TOKEN"`) is masked as it is in the jobs' recipes.
std::string recordedCommandLine(const std::vector<std::string>& argv, const std::vector<PlannedJob>& jobs) {
  std::vector<Recipe> recipes;
  std::set<std::string> names;
  for (const auto& job : jobs) {
    recipes.push_back(job.recipe);
    for (auto& name : secretVariables(job.recipe)) names.insert(std::move(name));
  }
  return maskSecrets(buildCommandLine(withSecretEnvMasked(argv, names)), recipes);
}

// A store refused as unsafe carries the command that fixes it.
std::string storeHint(const Error& error) {
  if (const auto* home = dynamic_cast<const HomeError*>(&error); home && !home->hint().empty()) return home->hint();
  return "check the store's directory or pass --home DIR to use another one";
}

[[noreturn]] void rethrowForCli(const Error& error) {
  switch (error.kind()) {
    case Error::Kind::recipe:
      if (error.field() == "sandboxed") {
        throw usageError(escapeControl(error.what()), "add --no-sandbox to run it on the host");
      }
      // The recipe is fine; this host cannot hold the limit for root.
      if (error.field() == "limits.maxProcesses") {
        throw CliError(escapeControl(error.what()),
                       "run it as an unprivileged user, or give jobtape a writable cgroup with the pids controller");
      }
      // Past our own validation, a mount is refused for what it shows: the home.
      if (error.field().starts_with("mounts[")) {
        throw usageError(escapeControl(error.what()),
                         "keep the home (--home DIR or $JOBTAPE_HOME) outside the directories the job may write");
      }
      throw usageError(escapeControl(error.what()), "check the recipe");
    case Error::Kind::store: throw CliError(escapeControl(error.what()), escapeControl(storeHint(error)));
    default: throw CliError(error.what());
  }
}

int runAction(const RunArgs& args, const CliContext& context) {
  if (args.command.empty() == args.recipeFiles.empty()) {
    throw usageError(args.command.empty() ? "nothing to run" : "give either a command or --recipe files, not both",
                     "usage: jobtape run [OPTIONS] -- COMMAND [ARGS...] or jobtape run --recipe FILE... [-j N]");
  }
  if (args.tty && args.noTty) throw usageError("--tty and --no-tty contradict each other", "give one of them");
  if (args.jobs < 1) throw usageError(fmt::format("-j {}: needs at least 1", args.jobs), "e.g. -j 4");
  if (!args.recipeFiles.empty()) refuseRecipeShapingOptions(args);
  // The enclosing repository's top level, unless --project says.
  fs::path projectDir = args.project ? absoluteFromCwd(*args.project) : projectRoot(fs::current_path());
  if (!fs::is_directory(projectDir)) {
    throw usageError(fmt::format("--project {}: not a directory", projectDir.string()),
                     "give the project's directory");
  }
  std::vector<PlannedJob> jobs = planJobs(args, projectDir);
  try {
    CancelToken token;
    StopSignals signals(token);
    auto recorder = Recorder::open({context.home});
    auto build = recorder->beginBuild({recordedCommandLine(context.argv, jobs), fs::current_path(), {}, {}, true});
    std::map<fs::path, int64_t> projectIds;  // one build project per directory
    for (auto& job : jobs) {
      auto [at, added] = projectIds.try_emplace(job.project, 0);
      if (added) at->second = build->addProject({job.project, {}, {}});
      job.projectId = at->second;
    }
    Outcomes outcomes = runJobs(*build, jobs, args.jobs, args, token);
    std::optional<std::string> buildProblem;
    try {
      build->finish();
    } catch (const HomeError&) {
      throw;  // a damaged store: its one line
    } catch (const Error& error) {
      // Said after the jobs: what they did is on record.
      buildProblem = error.what();
    }
    if (outcomes.firstError) std::rethrow_exception(outcomes.firstError);
    reportFailures(context, outcomes);
    reportIncompleteRecords(outcomes.results);
    if (buildProblem) {
      std::cerr << fmt::format("jobtape: warning: the record of build {} is incomplete: its row could not be finished "
                               "({})\n", build->id(), escapeControl(*buildProblem));
    }
    int status = exitStatusOf(outcomes, token);
    return status == 0 && buildProblem ? kIncompleteRecordStatus : status;
  } catch (const Error& error) {
    rethrowForCli(error);
  }
}

}  // namespace

void registerRunCommand(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand("run", "Run a command (or recipe files) in the sandbox and record it");
  run->footer("Usage: jobtape run [OPTIONS] -- COMMAND [ARGS...]\n       jobtape run [OPTIONS] --recipe FILE... [-j N]");
  run->add_option("--recipe", args->recipeFiles, "Run these recipe files (JSON) as jobs of one build")
      ->type_name("FILE");
  run->add_option("-j,--jobs", args->jobs, "With --recipe: run N jobs at a time")->type_name("N");
  run->add_flag("--network", args->network, "Share the host's network (default: loopback only)");
  CLI::Option* bind = run->add_option("--bind", args->binds, "Bind host path SRC read-write at DST (default: same path)")
                          ->type_name("SRC[:DST]");
  CLI::Option* roBind =
      run->add_option("--ro-bind", args->roBinds, "Bind host path SRC read-only at DST")->type_name("SRC[:DST]");
  CLI::Option* tmpfs = run->add_option("--tmpfs", args->tmpfs,
                                       "A private writable directory at DIR, an absolute path inside (kept if the job fails)")
                           ->type_name("DIR");
  run->add_option("--env", args->env, "Set an environment variable for the job")->type_name("K=V");
  run->add_option("--secret-env", args->secretEnv,
                  "Treat variable NAME as a secret: the job gets it, the record keeps *** (repeatable)")
      ->type_name("NAME");
  run->add_flag("--clean-env", args->cleanEnv, "Start from an empty environment (PATH only) instead of ours");
  run->add_option("--timeout", args->timeout, "Stop the job after SECONDS of wall-clock time")->type_name("SECONDS");
  run->add_option("--memory", args->memory, "Memory limit, e.g. 2G or 512M")->type_name("BYTES");
  run->add_option("--max-processes", args->maxProcesses, "At most N processes (and threads) at a time")
      ->type_name("N");
  run->add_flag("--no-home-overlay", args->noHomeOverlay,
                "Keep $HOME read-only inside (default: writable, the writes kept per project in the store)");
  run->add_flag("--no-sandbox", args->noSandbox,
                "Record only: run on the host without isolation (with --recipe: accept recipe files that ask for it)");
  run->add_option("--project", args->project,
                  "The project directory, read-write inside (default: the enclosing git/hg repository's top "
                  "level or .jobtape-marked directory, else .)")
      ->type_name("DIR");
  run->add_option("--name", args->name, "A short name for the job in listings")->type_name("NAME");
  run->add_flag("--tty", args->tty,
                "Run the job on terminals of its own (default when our stdout is a terminal)");
  run->add_flag("--no-tty", args->noTty, "Run the job with pipes for stdout and stderr, not terminals");
  run->add_flag("--quiet", args->quiet, "Do not echo the job's output (it is still recorded)");
  run->add_flag("--keep", args->keep, "Keep the sandbox's writable state even if the job succeeds");
  run->add_flag("--durable", args->durable, "fdatasync the events file at the end of every job");
  run->add_option("COMMAND", args->command, "The command to run and its arguments, after --")
      ->type_name("");
  run->positionals_at_end();
  run->callback([args, &context, run, bind, roBind, tmpfs] {
    // CLI11 keeps each option's values apart; parse_order() has one entry a
    // use, in command-line order, which is the order the mounts apply in.
    size_t next[3] = {0, 0, 0};
    const std::vector<std::string>* values[3] = {&args->binds, &args->roBinds, &args->tmpfs};
    const CLI::Option* options[3] = {bind, roBind, tmpfs};
    const char* names[3] = {"--bind", "--ro-bind", "--tmpfs"};
    for (const CLI::Option* used : run->parse_order()) {
      for (size_t i = 0; i < 3; ++i) {
        if (used == options[i] && next[i] < values[i]->size()) {
          args->mountOptions.emplace_back(names[i], (*values[i])[next[i]++]);
        }
      }
    }
    for (size_t i = 0; i < 3; ++i) {  // several values given to one use
      while (next[i] < values[i]->size()) args->mountOptions.emplace_back(names[i], (*values[i])[next[i]++]);
    }
    context.action = [args, &context] { return runAction(*args, context); };
  });
}

}  // namespace jobtape::cli
