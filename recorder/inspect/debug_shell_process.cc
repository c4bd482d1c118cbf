#include "recorder/inspect/debug_shell_process.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <jobtape/what_failed.h>

#include "recorder/events/event_reader.h"
#include "recorder/inspect/debug_shell.h"
#include "recorder/inspect/failed_processes.h"
#include "recorder/inspect/job_summary.h"
#include "recorder/inspect/what_failed_reading.h"
#include "recorder/job_command_line.h"

namespace jobtape::recorder {

namespace fs = std::filesystem;

namespace {

JobSummary readJob(const fs::path& eventsFile, const std::string& jobId) {
  const char* hint = "leave out --process for a shell in the job's work dir";
  std::unique_ptr<EventReader> reader;
  try {
    reader = EventReader::tryOpen(eventsFile);
  } catch (const NotAnEventsFile& refused) {
    throw DebugShellRefused(fmt::format("no process of job {} to re-run: {}", jobId, refused.what()), hint);
  }
  if (!reader) throw DebugShellRefused(fmt::format("job {} has no events file: no process to re-run", jobId), hint);
  if (reader->description().jobId != jobId) {
    throw DebugShellRefused(fmt::format("the events file of job {} is another job's: no process to re-run", jobId),
                            hint);
  }
  return summarizeEvents(*reader);
}

// The failing node with `pid`, else the last one with it.
std::optional<size_t> nodeWithPid(const JobSummary& job, int32_t pid) {
  std::optional<size_t> found;
  for (size_t node = 0; node < job.processes.nodes.size(); ++node) {
    if (job.processes.nodes[node].pid != pid) continue;
    auto exit = knownExit(job.processes, node, job.finished);
    bool failing = exit && exitFailed(*exit);
    if (!found || failing) found = node;
    if (failing) break;
  }
  return found;
}

}  // namespace

ProcessToRerun findProcessToRerun(const fs::path& eventsFile, const std::string& jobId, int32_t pid) {
  JobSummary job = readJob(eventsFile, jobId);
  std::optional<size_t> node = nodeWithPid(job, pid);
  if (!node) {
    throw DebugShellRefused(fmt::format("job {} recorded no process with pid {}", jobId, pid),
                            fmt::format("'jobtape job show --processes {}' lists its processes", jobId));
  }
  RecordedProcess process = recordedProcess(job.processes, *node, job.finished);
  ProcessToRerun rerun;
  rerun.pid = pid;
  rerun.argv = process.argv;
  if (rerun.argv.empty() || rerun.argv.front().empty()) {
    if (process.executable.empty()) {
      throw DebugShellRefused(fmt::format("process {} of job {} has no recorded command", pid, jobId),
                              "leave out --process for a shell in the job's work dir");
    }
    if (rerun.argv.empty()) rerun.argv.push_back(process.executable);
    else rerun.argv.front() = process.executable;
  }
  if (!process.cwd.empty() && process.cwd.front() == '/') rerun.cwd = process.cwd;
  rerun.commandLine = displayCommand(rerun.argv.front(), {rerun.argv.begin() + 1, rerun.argv.end()});
  rerun.status = processStatusText(process);
  return rerun;
}

bool keepsHistory(const std::string& shellPath) {
  std::string name = fs::path(shellPath).filename().string();
  return name == "bash" || name == "zsh";
}

HistoryFile::HistoryFile(const std::string& line) {
  std::string pattern = (fs::temp_directory_path() / "jobtape-history-XXXXXX").string();
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    throw DebugShellRefused(fmt::format("cannot make a history file in {}: {}", fs::temp_directory_path().string(),
                                        std::strerror(errno)),
                            "set TMPDIR to a writable directory");
  }
  path_ = pattern;
  std::string text = line + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written) {
    ::unlink(path_.c_str());
    throw DebugShellRefused("cannot write the history file " + path_.string(), "check the free space of TMPDIR");
  }
}

HistoryFile::~HistoryFile() { ::unlink(path_.c_str()); }

}  // namespace jobtape::recorder
