// `jobtape build list|show|trace|check`: builds, their jobs and nested
// builds. The data and the JSON come from the library (<jobtape/inspect.h>,
// <jobtape/views.h>); this file parses and prints.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <jobtape/inspect.h>
#include <jobtape/views.h>
#include <memory>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/job_selection.h"
#include "cli/output_file.h"

namespace jobtape::cli {

namespace fs = std::filesystem;

namespace {

const char* kRunHint = "record one with 'jobtape run -- COMMAND'";

BuildRecord resolveBuild(Home& home, const std::optional<std::string>& selector) {
  if (!home.hasStore()) throw CliError("no builds recorded yet", kRunHint);
  try {
    return home.selectBuild(selector);
  } catch (const SelectorError& error) {
    throwSelectorError(error, "jobtape build list");
  }
}

Colour resultColour(const std::string& result) {
  if (result == "succeeded") return Colour::green;
  if (result == "failed") return Colour::red;
  return Colour::blue;
}

std::string projectsText(const std::vector<ProjectRecord>& projects) {
  if (projects.empty()) return "-";
  const auto& first = projects.front();
  std::string text = !first.localProjectPath.empty() ? first.localProjectPath : first.registryProjectName;
  if (projects.size() > 1) text += fmt::format(" +{}", projects.size() - 1);
  return escapeControl(text);
}

std::string countsText(const JobCounts& counts) {
  std::string text = fmt::format("{} ok", counts.succeeded);
  if (counts.failed + counts.abandoned) text += fmt::format(", {} failed", counts.failed + counts.abandoned);
  if (counts.running) text += fmt::format(", {} running", counts.running);
  return text;
}

std::string durationText(const BuildTree& node) {
  return node.durationMs ? formatDuration(*node.durationMs) : std::string("-");
}

// ---- build list ----------------------------------------------------------------

struct ListRow {
  std::string id;  // with the tree prefix
  const BuildTree* node;
};

void flatten(const BuildTree& node, const std::string& indent, bool last, bool top, std::vector<ListRow>& rows) {
  std::string branch = top ? "" : indent + (last ? "└─ " : "├─ ");
  rows.push_back({branch + node.build.shortId, &node});
  std::string childIndent = top ? "" : indent + (last ? "   " : "│  ");
  for (size_t i = 0; i < node.nested.size(); ++i) {
    flatten(node.nested[i], childIndent, i + 1 == node.nested.size(), false, rows);
  }
}

// Display width of a cell: the tree's box characters are one column each.
size_t columns(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& text, size_t width) {
  size_t used = columns(text);
  return used >= width ? text : text + std::string(width - used, ' ');
}

int listAction(const CliContext& context, int limit, bool json) {
  auto home = openHome(context);
  std::vector<BuildTree> nodes = home->builds(limit);
  if (json) {
    std::cout << buildListJson(nodes) << '\n';
    return 0;
  }
  if (nodes.empty()) {
    std::cerr << "jobtape: no builds recorded yet; " << kRunHint << '\n';
    return 0;
  }
  std::vector<ListRow> rows;
  for (const auto& node : nodes) flatten(node, "", true, true, rows);
  size_t idWidth = 5, countWidth = 4, projectWidth = 7;
  for (const auto& row : rows) {
    idWidth = std::max(idWidth, columns(row.id));
    countWidth = std::max(countWidth, countsText(row.node->jobs).size());
    projectWidth = std::max(projectWidth, columns(projectsText(row.node->projects)));
  }
  int64_t now = nowUnixMs();
  std::cout << pad("BUILD", idWidth) << "  " << pad("RESULT", 9) << "  " << pad("JOBS", countWidth) << "  "
            << pad("DURATION", 8) << "  " << pad("STARTED", 11) << "  " << pad("PROJECT", projectWidth) << "  COMMAND\n";
  for (const auto& row : rows) {
    const auto& b = row.node->build;
    std::string result = buildResultName(b);
    std::cout << pad(row.id, idWidth) << "  " << colourize(context, resultColour(result), pad(result, 9)) << "  "
              << pad(countsText(row.node->jobs), countWidth) << "  " << pad(durationText(*row.node), 8) << "  "
              << pad(formatRelative(b.startedAtMs, now), 11) << "  " << pad(projectsText(row.node->projects), projectWidth) << "  "
              << escapeControl(b.commandLine) << '\n';
  }
  return 0;
}

// ---- build show ----------------------------------------------------------------

void printJobs(const CliContext& context, Home& home, const std::string& buildId) {
  auto jobs = withoutDamaged(home.jobsOfBuild(buildId));
  for (const auto& job : jobs) {
    std::string status = jobStatusName(job.status);
    std::string how;
    if (job.signal && *job.signal) how = fmt::format("signal {}", *job.signal);
    else if (!job.outcome.empty() && job.outcome != "exited") how = job.outcome;
    else if (job.exitCode) how = fmt::format("exit {}", *job.exitCode);
    std::string duration = job.stoppedAtMs ? formatDuration(*job.stoppedAtMs - job.startedAtMs) : "-";
    std::cout << "  " << home.shortId(job.id) << "  "
              << colourize(context, statusColour(job.status), pad(status, 9)) << "  " << pad(how, 12) << "  "
              << pad(duration, 8) << "  " << escapeControl(!job.name.empty() ? job.name + ": " + job.command : job.command)
              << '\n';
  }
  if (jobs.empty()) std::cout << "  (none)\n";
}

void printNestedTree(const CliContext& context, const BuildTree& node, const std::string& indent) {
  for (size_t i = 0; i < node.nested.size(); ++i) {
    const auto& child = node.nested[i];
    bool last = i + 1 == node.nested.size();
    std::string result = buildResultName(child.build);
    std::cout << indent << (last ? "└─ " : "├─ ") << child.build.shortId << "  "
              << colourize(context, resultColour(result), result) << "  " << countsText(child.jobs) << "  "
              << durationText(child) << "  from job " << child.build.parentJobId.value_or("?").substr(0, 10) << "  "
              << escapeControl(child.build.commandLine) << '\n';
    printNestedTree(context, child, indent + (last ? "   " : "│  "));
  }
  if (node.truncated) std::cout << indent << "└─ (more nested builds not shown)\n";
}

int showAction(const CliContext& context, const std::optional<std::string>& selector, bool json) {
  auto home = openHome(context);
  auto build = resolveBuild(*home, selector);
  BuildTree node = home->buildTree(build);
  if (json) {
    std::cout << buildShowJson(*home, node) << '\n';
    return 0;
  }
  std::string result = buildResultName(build);
  auto line = [](const char* label, const std::string& value) { std::cout << fmt::format("{:<10} {}\n", label, value); };
  std::cout << "build " << build.id << '\n';
  line("result:", colourize(context, resultColour(result), result));
  line("started:", formatTimestamp(build.startedAtMs) + " (" + formatRelative(build.startedAtMs, nowUnixMs()) + ")");
  line("duration:", durationText(node));
  line("command:", escapeControl(build.commandLine));
  line("cwd:", escapeControl(build.cwd));
  line("host:", escapeControl(build.host));
  if (build.parentJobId) line("nested in:", "job " + *build.parentJobId);
  if (build.retryOf) line("retry of:", "build " + *build.retryOf);
  for (const auto& p : node.projects) {
    std::string name = !p.localProjectPath.empty() ? p.localProjectPath : p.registryProjectName;
    line("project:", escapeControl(name) + "  (" + p.projectHash.substr(0, 12) + ")");
  }
  line("jobs:", countsText(node.jobs));
  printJobs(context, *home, build.id);
  if (!node.nested.empty()) {
    std::cout << "nested builds:\n";
    printNestedTree(context, node, "  ");
  }
  return 0;
}

// ---- build trace ---------------------------------------------------------------

int traceAction(const CliContext& context, const std::optional<std::string>& selector,
                const std::optional<std::string>& output) {
  auto home = openHome(context);
  auto build = resolveBuild(*home, selector);
  BuildTrace trace = home->trace(build, nowUnixMs());
  const std::string& json = trace.json;
  if (!output || *output == "-") {
    std::cout << json;
    return 0;
  }
  fs::path target(*output);
  writeOutputFile(target, json);
  size_t jobs = trace.jobs;
  std::cerr << fmt::format("jobtape: wrote the trace of build {} ({} job{}) to {}; open it in https://ui.perfetto.dev\n",
                           build.id.substr(0, 10), jobs, jobs == 1 ? "" : "s", escapeControl(target.string()));
  return 0;
}

// ---- build check ---------------------------------------------------------------

int checkAction(const CliContext& context, int failures, const std::optional<std::string>& project, bool json) {
  if (failures < 1) {
    throw usageError(fmt::format("--failures {}: needs at least 1", failures), "e.g. --failures 3");
  }
  auto home = openHome(context);
  FailureCheck check = home->checkFailures(failures, project);
  // A lock that a typo in the project name opens is no lock: a project with
  // no finished build is refused rather than reported unlocked.
  if (project && check.considered.empty()) {
    throw usageError(fmt::format("no finished build of project '{}' is recorded", escapeControl(*project)),
                     "give its directory or registry name as 'jobtape build list' shows it");
  }
  if (json) {
    std::cout << buildCheckJson(check) << '\n';
  } else {
    std::cout << check.verdict << '\n';
  }
  return check.locked ? 1 : 0;
}

}  // namespace

void registerBuildCommands(CLI::App& build, CliContext& context) {
  {
    struct Args {
      int limit = 20;
      bool json = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* list = build.add_subcommand("list", "List recent builds, nested builds under their parents");
    list->add_option("--limit", args->limit, "Show at most N top-level builds (0: all; default 20)")->type_name("N");
    list->add_flag("--json", args->json, "Print JSON");
    list->callback([args, &context] {
      if (args->limit < 0) throw usageError(fmt::format("--limit {}: must not be negative", args->limit), "e.g. --limit 50");
      context.action = [args, &context] { return listAction(context, args->limit, args->json); };
    });
  }
  {
    struct Args {
      std::optional<std::string> selector;
      bool json = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* show = build.add_subcommand("show", "Show one build: result, projects, jobs, nested builds");
    show->add_option("build", args->selector, "last (default), failed, or a build id prefix")->type_name("BUILD");
    show->add_flag("--json", args->json, "Print JSON, with the jobs of each build");
    show->callback([args, &context] {
      context.action = [args, &context] { return showAction(context, args->selector, args->json); };
    });
  }
  {
    struct Args {
      std::optional<std::string> selector;
      std::optional<std::string> output;
    };
    auto args = std::make_shared<Args>();
    CLI::App* trace = build.add_subcommand("trace", "Write a build as Chrome trace-event JSON (open in Perfetto)");
    trace->add_option("build", args->selector, "last (default), failed, or a build id prefix")->type_name("BUILD");
    trace->add_option("-o,--output", args->output, "Write to FILE instead of stdout")->type_name("FILE");
    trace->callback([args, &context] {
      context.action = [args, &context] { return traceAction(context, args->selector, args->output); };
    });
  }
  {
    struct Args {
      int failures = 0;
      std::optional<std::string> project;
      bool json = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* check = build.add_subcommand(
        "check", "Exit 1 when the last N finished builds (of a project) all failed: a branch lock for CI");
    check->add_option("--failures", args->failures, "How many failed builds in a row lock")->type_name("N")->required();
    check->add_option("--project", args->project,
                      "Only builds of this project (its directory or registry name); nested builds count too")
        ->type_name("P");
    check->add_flag("--json", args->json, "Print the verdict and the builds it looked at as JSON (same exit status)");
    check->callback([args, &context] {
      context.action = [args, &context] { return checkAction(context, args->failures, args->project, args->json); };
    });
  }
}

}  // namespace jobtape::cli
