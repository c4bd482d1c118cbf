// Builds the public view of what failed in a job (<jobtape/what_failed.h>)
// from its events: the failing chains (failed_processes.h) and their output
// windows (output_windows.h).
#pragma once

#include <filesystem>

#include <jobtape/what_failed.h>

#include "recorder/inspect/job_summary.h"

namespace jobtape::recorder {

// `summary` is what summarizeEvents() read from `eventsFile`; the file is
// read once more, for the output. Throws NotAnEventsFile.
WhatFailed readWhatFailed(const std::filesystem::path& eventsFile, const JobSummary& summary,
                          const WhatFailedOptions& options = {});

// The public form of one recorded process (its last program).
RecordedProcess recordedProcess(const ProcessTree& tree, size_t node, const std::optional<JobFinishedEvent>& finished);

}  // namespace jobtape::recorder
