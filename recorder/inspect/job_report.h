// Everything known about one job, from the store's row and its events file,
// put into words (`job show`) or JSON (`job show --json`).
//
// The caller gathers the pieces (either may be missing: an events file given
// by path has no row; a row whose file was removed has no events) and says
// how terminal text is to be made safe and how times are to be shown, so the
// library never has to know about terminals.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <jobtape/views.h>

#include "recorder/inspect/job_summary.h"
#include "sandbox/recipe.h"
#include "store/store.h"

namespace jobtape::recorder {

struct JobReport {
  std::optional<store::JobRow> row;
  std::string shortId;  // the row's shortest unique id prefix; empty without a row
  std::optional<store::BuildRow> build;
  std::optional<sandbox::Recipe> recipe;
  std::string recipeSource;  // "store" or "events file"
  std::optional<JobSummary> events;
  std::string eventsError;  // why `events` is missing
  std::filesystem::path eventsFile;
  std::optional<std::filesystem::path> keptState;  // only if it exists on disk
};

// How text is made safe and times shown: the public style (<jobtape/views.h>).
using jobtape::ReportStyle;

// "running" | "succeeded" | "failed" | "abandoned" | "unknown"
std::string reportStatus(const JobReport& report);

// One line saying how the job ended: "exited with status 2", "killed by
// signal 9 (SIGKILL)", "sandbox setup failed at pivot_root: EPERM
// (Operation not permitted)", "killed by the seccomp filter for calling
// ptrace", ...
std::string outcomeText(const JobReport& report);

std::string renderReportText(const JobReport& report, const ReportStyle& style, bool processes);
std::string renderReportJson(const JobReport& report, bool processes);

// The process tree as an indented table (PID, START, DURATION, EXIT, COMMAND).
std::string renderProcessTreeText(const ProcessTree& tree, const ReportStyle& style);

// "1.5 KiB", "12.0 MiB"
std::string formatBytes(uint64_t bytes);

}  // namespace jobtape::recorder
