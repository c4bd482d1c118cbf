// The process tree of a job as an indented table (`job show --processes`):
// PID, START, DURATION, EXIT, COMMAND, children under their parent.
#pragma once

#include <string>
#include <vector>

#include "recorder/inspect/job_report.h"
#include "recorder/inspect/job_summary.h"

namespace jobtape::recorder {

// `shown`: when not empty, only the processes marked in it (by node index);
// a process that is not shown hides its subtree. Commands are shortened to
// what is left of view.width unless view.wide; a failing process's EXIT goes
// through style.failure.
std::string renderProcessTreeText(const ProcessTree& tree, const ReportStyle& style, const ReportView& view = {},
                                  const std::vector<bool>& shown = {});

// The nodes of `tree` on a failing chain (failed_processes.h) or failing
// below one: what `job show --processes --failed` shows.
std::vector<bool> failingChainNodes(const ProcessTree& tree, const std::optional<JobFinishedEvent>& finished);

}  // namespace jobtape::recorder
