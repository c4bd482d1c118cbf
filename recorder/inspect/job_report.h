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
#include <vector>

#include <jobtape/what_failed.h>

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
  std::optional<WhatFailed> failed;  // what failed, for a job that did not succeed (addWhatFailed)
};

// What `job show` prints beyond its fixed lines.
struct ReportView {
  bool processes = false;   // the process tree
  bool failedOnly = false;  // ... only the failing chains and their failing helpers
  bool env = false;         // the recipe's environment (JSON has it always, in `recipe`)
  bool wide = false;        // commands in full
  size_t width = 100;       // else commands are shortened to this many columns
};

// How text is made safe and times shown: the public style (<jobtape/views.h>).
using jobtape::ReportStyle;

// Reads what failed from the report's events file into `report.failed`,
// unless the job succeeded or its events could not be read.
void addWhatFailed(JobReport& report);

// "running" | "succeeded" | "failed" | "abandoned" | "unknown"
std::string reportStatus(const JobReport& report);

// One line saying how the job ended: "exited with status 2", "killed by
// signal 9 (SIGKILL)", "sandbox setup failed at pivot_root: EPERM
// (Operation not permitted)", "killed by the seccomp filter for calling
// ptrace", ...
std::string outcomeText(const JobReport& report);

// Starts with how the job ended and what failed; then the rest.
std::string renderReportText(const JobReport& report, const ReportStyle& style, const ReportView& view = {});
// Everything, the recipe's environment and `failed_processes` included;
// `processes` with view.processes.
std::string renderReportJson(const JobReport& report, const ReportView& view = {});


// "1.5 KiB", "12.0 MiB"
std::string formatBytes(uint64_t bytes);

}  // namespace jobtape::recorder
