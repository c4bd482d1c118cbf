#include "cli/failure_summary.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <iostream>
#include <jobtape/text.h>
#include <jobtape/what_failed.h>

#include "cli/cli_support.h"

namespace jobtape::cli {

namespace {

// Lines of what failed, for all failed jobs together (the hint lines and the
// "see:" lines come on top).
constexpr size_t kSummaryLines = 11;
constexpr size_t kMinLinesPerJob = 4;
constexpr size_t kMaxJobsSummarized = 3;
// Where stderr is no terminal (a CI log), lines may be longer.
constexpr size_t kWidthOffTerminal = 120;

size_t stderrWidth() {
  struct winsize size {};
  if (::isatty(STDERR_FILENO) == 1 && ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40) {
    return size.ws_col;
  }
  return kWidthOffTerminal;
}

std::string jobtapeCommand(const CliContext& context) {
  return context.home ? fmt::format("jobtape --home {}", shellQuote(context.home->string())) : std::string("jobtape");
}

// "see: jobtape job show · jobtape job debug-shell --process 12"
std::string seeLine(const CliContext& context, const std::string& selector, const WhatFailed& failed) {
  std::string jobtape = jobtapeCommand(context);
  std::string line = fmt::format("  see: {} job show{}", jobtape, selector);
  if (!failed.processes.empty()) {
    line += fmt::format(" · {} job debug-shell{} --process {}", jobtape, selector, failed.processes.front().process.pid);
  }
  return line;
}

void printWhatFailed(const CliContext& context, const FailedJob& job, const std::string& selector, size_t lines) {
  WhatFailed failed;
  try {
    failed = whatFailed(job.result->eventsFile);
  } catch (const std::exception&) {
    return;  // the hint line still says where to look
  }
  if (failed.processes.empty()) return;
  bool colour = context.colour && ::isatty(STDERR_FILENO) == 1;
  WhatFailedTextOptions options;
  options.escape = [](std::string_view text) { return escapeControl(text); };
  options.failure = [&](std::string_view text) { return colour ? colourize(context, Colour::red, text) : std::string(text); };
  options.note = [&](std::string_view text) { return colour ? colourize(context, Colour::dim, text) : std::string(text); };
  options.maxLines = lines;
  options.width = stderrWidth();
  size_t count = failed.processes.size();
  std::cerr << fmt::format("jobtape: {} command{} failed (of {} process{} in job {}):\n", count,
                           count == 1 ? "" : "s", failed.processesRecorded, failed.processesRecorded == 1 ? "" : "es",
                           job.shortId)
            << renderWhatFailed(failed, options) << seeLine(context, selector, failed) << '\n';
}

}  // namespace

void printFailedJobs(const CliContext& context, const std::vector<FailedJob>& jobs, bool withSelector) {
  size_t summarized = std::min(jobs.size(), kMaxJobsSummarized);
  size_t lines = summarized == 0 ? 0 : std::max(kMinLinesPerJob, kSummaryLines / summarized);
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::string selector = withSelector ? " " + jobs[i].shortId : std::string();
    if (i < summarized) printWhatFailed(context, jobs[i], selector, lines);
    if (jobs[i].metReadOnly) {
      std::cerr << "jobtape: the job met a read-only file system: only the project directory, /tmp, $HOME "
                   "(unless --no-home-overlay) and --bind DIR are writable inside (e.g. --bind /var/cache/DIR)\n";
    }
    std::cerr << failureHintLine(context, jobs[i].shortId, *jobs[i].result, withSelector) << '\n';
  }
}

}  // namespace jobtape::cli
