// `jobtape gc` and `jobtape history`: retention and per-day aggregates, from
// the library (<jobtape/actions.h>, <jobtape/inspect.h>).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <jobtape/actions.h>
#include <jobtape/inspect.h>
#include <jobtape/views.h>
#include <memory>

#include "cli/cli_context.h"
#include "cli/cli_error.h"
#include "cli/cli_support.h"
#include "cli/output_file.h"

namespace jobtape::cli {

namespace fs = std::filesystem;

namespace {

std::string formatBytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(units)) {
    value /= 1024.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

// ---- gc ----------------------------------------------------------------------

struct GcArgs {
  std::optional<int64_t> keepFailed;
  std::optional<int64_t> keepSucceeded;
  std::optional<std::string> olderThan;
  bool dryRun = false;
  bool json = false;
  bool recover = false;
  bool homes = false;
  std::optional<std::string> project;  // with --homes: only this project's layers
};

// `gc --recover`: a new index from the events files.
int recoverAction(const CliContext& context) {
  RecoveryReport report = recoverStore({context.home});
  if (!report.keptAs.empty()) {
    std::cout << fmt::format("moved the old database aside to {}\n", escapeControl(report.keptAs.string()));
  }
  for (const auto& dir : report.skipped) {
    std::cerr << "jobtape: warning: no readable events file in " << escapeControl(dir) << "; its job is left out\n";
  }
  std::cout << fmt::format("rebuilt the store from {} events file{}: {} job{} in {} build{}\n", report.jobs,
                           report.jobs == 1 ? "" : "s", report.jobs, report.jobs == 1 ? "" : "s", report.builds,
                           report.builds == 1 ? "" : "s");
  return 0;
}

GcPolicy policyFrom(const GcArgs& args) {
  GcPolicy policy;
  if (args.keepFailed && *args.keepFailed < 0) {
    throw usageError(fmt::format("--keep-failed {}: must not be negative", *args.keepFailed), "e.g. --keep-failed 20");
  }
  if (args.keepSucceeded && *args.keepSucceeded < 0) {
    throw usageError(fmt::format("--keep-succeeded {}: must not be negative", *args.keepSucceeded),
                     "e.g. --keep-succeeded 5");
  }
  policy.keepFailed = args.keepFailed;
  policy.keepSucceeded = args.keepSucceeded;
  if (args.olderThan) {
    policy.olderThan = parseAge(*args.olderThan);
    if (!policy.olderThan) {
      throw usageError(fmt::format("--older-than {}: not an age", *args.olderThan), "e.g. 7d, 12h, 30m, 90s or 2w");
    }
  }
  policy.dryRun = args.dryRun;
  if (args.project && !args.homes) {
    throw usageError("--project goes with --homes", "e.g. jobtape gc --homes --project .");
  }
  policy.homes = args.homes;
  if (args.project) policy.homesOfProject = fs::path(*args.project);
  return policy;
}

// "removed 2 home layers (1 in use left alone), freed 3.1 MiB".
void printHomeLayers(const GcReport& report) {
  std::string inUse = report.homeLayersInUse == 0
                          ? std::string()
                          : fmt::format(" ({} in use by running jobs left alone)", report.homeLayersInUse);
  std::cout << fmt::format("{} {} home layer{}{}, {} {}\n", report.dryRun ? "would remove" : "removed",
                           report.homeLayersRemoved, report.homeLayersRemoved == 1 ? "" : "s", inUse,
                           report.dryRun ? "would free" : "freed", formatBytes(report.homeBytesFreed));
}

int gcAction(const CliContext& context, const GcArgs& args) {
  if (args.recover) return recoverAction(context);
  auto policy = policyFrom(args);
  auto home = openHome(context);
  if (!home->hasStore() && !args.homes) {
    if (args.json) std::cout << gcReportJson(GcReport{policy.dryRun, {}, {}, 0, 0, {}}) << '\n';
    else std::cout << "nothing to remove: no jobs recorded yet\n";
    return 0;
  }
  GcReport report = collectGarbage(*home, policy);
  // What could not be removed does not stop the sweep; it is said, and the
  // next gc tries again.
  for (const auto& problem : report.problems) {
    std::cerr << "jobtape: warning: " << escapeControl(problem) << '\n';
  }
  if (args.json) {
    std::cout << gcReportJson(report) << '\n';
    return 0;
  }
  const char* verb = report.dryRun ? "would remove" : "removed";
  int64_t now = nowUnixMs();
  for (const auto& job : report.jobs) {
    std::cout << fmt::format("{} job {}  {:<9}  stopped {:<11}  {}\n", verb, escapeControl(job.id),
                             jobStatusName(job.status),
                             formatRelative(job.stoppedAtMs, now), formatBytes(job.bytes));
  }
  for (const auto& build : report.builds) std::cout << fmt::format("{} build {} (no jobs left)\n", verb, build);
  if (report.leftoversSwept > 0) {
    std::cout << fmt::format("{} {} leftover{} of an interrupted gc or of a recorder that died\n",
                             report.dryRun ? "would sweep" : "swept", report.leftoversSwept,
                             report.leftoversSwept == 1 ? "" : "s");
  }
  bool anyLimit = policy.keepFailed || policy.keepSucceeded || policy.olderThan;
  if (args.homes) {
    printHomeLayers(report);
    if (!anyLimit) return 0;
  }
  std::cout << fmt::format("{} {} job{} and {} build{}, {} {}{}\n", report.dryRun ? "would remove" : "removed",
                           report.jobs.size(), report.jobs.size() == 1 ? "" : "s", report.builds.size(),
                           report.builds.size() == 1 ? "" : "s", report.dryRun ? "would free" : "freed",
                           formatBytes(report.bytesFreed),
                           anyLimit ? "" : " (no limit given: --keep-failed N, --keep-succeeded N, --older-than D)");
  return 0;
}

// ---- history -------------------------------------------------------------------

struct HistoryArgs {
  bool json = false;
  std::optional<std::string> csvDir;
  std::optional<std::string> since;
};

void printTable(const std::vector<DayStats>& days) {
  std::cout << fmt::format("{:<10}  {:>6}  {:>6}  {:>6}  {:>6}  {:>9}  {:>9}  {:>9}\n", "DAY", "BUILDS", "FAILED",
                           "JOBS", "FAILED", "JOB TOTAL", "MEDIAN", "MAX");
  for (const auto& d : days) {
    const auto& s = d.jobDurations;
    auto duration = [&](int64_t ms) { return s.count ? formatDuration(ms) : std::string("-"); };
    std::cout << fmt::format("{:<10}  {:>6}  {:>6}  {:>6}  {:>6}  {:>9}  {:>9}  {:>9}\n", d.date, d.builds,
                             d.failedBuilds, d.jobs, d.failedJobs, duration(s.totalMs), duration(s.medianMs),
                             duration(s.maxMs));
  }
}

int historyAction(const CliContext& context, const HistoryArgs& args) {
  std::optional<int64_t> since;
  if (args.since) {
    since = parseSince(*args.since, nowUnixMs());
    if (!since) {
      throw usageError(fmt::format("--since {}: not a date", *args.since), "use YYYY-MM-DD or an age such as 7d or 12h");
    }
  }
  auto home = openHome(context);
  std::vector<DayStats> days = home->history(since);
  if (args.csvDir) {
    fs::path dir(*args.csvDir);
    makeOutputDirectory(dir);
    writeOutputFile(dir / "builds.csv", historyBuildsCsv(days));
    writeOutputFile(dir / "jobs.csv", historyJobsCsv(days));
    std::cerr << fmt::format("jobtape: wrote {} and {} ({} day{})\n", escapeControl((dir / "builds.csv").string()),
                             escapeControl((dir / "jobs.csv").string()), days.size(), days.size() == 1 ? "" : "s");
    return 0;
  }
  if (args.json) {
    std::cout << historyJson(days);
    return 0;
  }
  if (days.empty()) {
    std::cerr << "jobtape: no builds recorded" << (since ? " in that time" : " yet") << '\n';
    return 0;
  }
  printTable(days);
  return 0;
}

}  // namespace

void registerMaintenanceCommands(CLI::App& app, CliContext& context) {
  {
    auto args = std::make_shared<GcArgs>();
    CLI::App* gc = app.add_subcommand("gc", "Remove old jobs (rows, events files, kept state) and say what it freed");
    gc->add_option("--keep-failed", args->keepFailed, "Keep the N most recent failed jobs")->type_name("N");
    gc->add_option("--keep-succeeded", args->keepSucceeded, "Keep the N most recent succeeded jobs")->type_name("N");
    gc->add_option("--older-than", args->olderThan, "Remove jobs that stopped longer ago than D (7d, 12h, 30m)")
        ->type_name("D");
    gc->add_flag("--dry-run", args->dryRun, "Only say what would be removed");
    gc->add_flag("--json", args->json, "Say what was (or would be) removed as JSON");
    gc->add_flag("--homes", args->homes,
                 "Also drop the kept upper layers of the jobs' $HOME overlays (their caches start cold)");
    gc->add_option("--project", args->project, "With --homes: only the layers of the project at DIR")
        ->type_name("DIR");
    gc->add_flag("--recover", args->recover,
                 "Rebuild a damaged jobtape.db from the events files (the old one is kept aside)")
        ->excludes("--keep-failed", "--keep-succeeded", "--older-than", "--dry-run", "--json", "--homes", "--project");
    gc->callback([args, &context] {
      policyFrom(*args);  // bad values are usage errors before anything is opened
      context.action = [args, &context] { return gcAction(context, *args); };
    });
  }
  {
    auto args = std::make_shared<HistoryArgs>();
    CLI::App* history = app.add_subcommand("history", "Builds and jobs per day: counts, failures, durations");
    auto* json = history->add_flag("--json", args->json, "Print JSON");
    auto* csv = history->add_option("--csv", args->csvDir, "Write builds.csv and jobs.csv into DIR")->type_name("DIR");
    json->excludes(csv);
    history->add_option("--since", args->since, "Only from this day on (YYYY-MM-DD, or an age: 30d)")->type_name("DATE");
    history->callback([args, &context] {
      context.action = [args, &context] { return historyAction(context, *args); };
    });
  }
}

}  // namespace jobtape::cli
