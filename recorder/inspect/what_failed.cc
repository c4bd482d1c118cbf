// jobtape::whatFailed(): the public entry to what failed in a recorded job.
#include <jobtape/what_failed.h>

#include <algorithm>

#include "recorder/events/event_reader.h"
#include "recorder/inspect/failed_processes.h"
#include "recorder/inspect/output_windows.h"
#include "recorder/inspect/process_roles.h"
#include "recorder/inspect/what_failed_reading.h"
#include "recorder/job_command_line.h"

namespace jobtape {

namespace {

using std::chrono::nanoseconds;

OutputWindow publicWindow(const recorder::LineWindow& window) {
  OutputWindow out;
  out.begin = nanoseconds(window.beginNs);
  if (window.endNs) out.end = nanoseconds(*window.endNs);
  out.omittedAt = window.omittedAt;
  out.omitted = window.omitted;
  out.totalLines = window.totalLines;
  out.lines.reserve(window.lines.size());
  for (const auto& line : window.lines) {
    OutputStream stream = line.stream == sandbox::Stream::stdout_ ? OutputStream::stdout_ : OutputStream::stderr_;
    out.lines.push_back({stream, nanoseconds(line.elapsedNs), line.text, line.alone, line.byName, line.cut});
  }
  return out;
}

std::string commandLineOf(const RecordedProcess& process) {
  if (process.argv.empty()) return recorder::shellQuote(process.executable);
  return recorder::displayCommand(process.argv.front(), {process.argv.begin() + 1, process.argv.end()});
}

}  // namespace

WhatFailed whatFailed(const std::filesystem::path& eventsFile, const WhatFailedOptions& options) {
  try {
    auto reader = recorder::EventReader::open(eventsFile);
    recorder::JobSummary summary = recorder::summarizeEvents(*reader);
    return recorder::readWhatFailed(eventsFile, summary, options);
  } catch (const recorder::NotAnEventsFile& error) {
    throw Error(Error::Kind::io, error.what());
  }
}

}  // namespace jobtape

namespace jobtape::recorder {

RecordedProcess recordedProcess(const ProcessTree& tree, size_t node, const std::optional<JobFinishedEvent>& finished) {
  const ProcessNode& process = tree.nodes[node];
  const ProcessImage& image = process.images.back();
  RecordedProcess out;
  out.pid = process.pid;
  out.ppid = process.ppid;
  out.argv = image.argv;
  out.executable = image.executable;
  out.cwd = image.cwd;
  out.start = std::chrono::nanoseconds(process.startNs);
  auto exit = knownExit(tree, node, finished);
  if (exit && exit->elapsedNs >= process.startNs) out.duration = std::chrono::nanoseconds(exit->elapsedNs - process.startNs);
  else if (auto duration = process.durationNs()) out.duration = std::chrono::nanoseconds(*duration);
  if (exit) {
    out.statusKnown = true;
    out.signal = exit->signal;
    if (!exit->signal) out.exitCode = exit->exitCode;
  }
  out.role = processRoleName(processRole(image.argv, image.executable));
  return out;
}

WhatFailed readWhatFailed(const std::filesystem::path& eventsFile, const JobSummary& summary,
                          const WhatFailedOptions& options) {
  const ProcessTree& tree = summary.processes;
  WhatFailed failed;
  failed.jobId = summary.description.jobId;
  failed.workDir = summary.description.recipe.workDir;
  failed.finished = summary.finished.has_value();
  failed.succeeded = summary.finished && summary.finished->result.succeeded();
  failed.processesRecorded = tree.nodes.size();
  failed.processesStatusUnknown = processesWithUnknownStatus(tree);
  failed.tracingIncomplete = summary.tracingIncomplete.has_value();
  for (size_t node = 0; node < tree.nodes.size(); ++node) {
    auto exit = knownExit(tree, node, summary.finished);
    if (exit && exitFailed(*exit)) ++failed.processesFailed;
  }
  std::vector<FailingChain> chains = findFailingChains(tree, summary.finished);
  if (chains.empty()) return failed;
  auto reader = EventReader::open(eventsFile);
  std::vector<FailureOutput> outputs =
      collectFailureOutput(*reader, tree, chains, {options.headLines, options.tailLines});
  for (size_t i = 0; i < chains.size(); ++i) {
    FailedProcess process;
    process.process = recordedProcess(tree, chains[i].node, summary.finished);
    process.commandLine = commandLineOf(process.process);
    for (size_t node : chains[i].chain) process.chain.push_back(recordedProcess(tree, node, summary.finished));
    for (size_t node : chains[i].helpers) process.failedHelpers.push_back(recordedProcess(tree, node, summary.finished));
    process.during = publicWindow(outputs[i].during);
    process.after = publicWindow(outputs[i].after);
    process.attributed = outputs[i].attributed;
    process.attributedByName = outputs[i].attributedByName;
    process.concurrentProcesses = outputs[i].concurrentProcesses;
    failed.processes.push_back(std::move(process));
  }
  return failed;
}

}  // namespace jobtape::recorder
