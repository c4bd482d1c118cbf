// `job debug-shell --process PID`: re-entering a failed job's sandbox at one
// of its processes, to run its command again.
//
// The process is looked up in the job's own events file (in the store's job
// directory, its job id checked) by its pid inside the sandbox; when the pid
// was used more than once, the failing process with it wins, else the last
// one. Its last program is what is run again: argv as recorded, in its
// working directory at that exec, with the job's environment (a process's own
// changes to its environment, e.g. make's MAKEFLAGS, are not recorded).
//
// For a shell, the command goes into its history through HISTFILE: a file
// of one line, created 0600 in the caller's temporary directory, bound
// read-write at kHistoryPath inside (the sandbox's own /dev, which every
// sandbox has and which vanishes with it) and removed afterwards. bash and
// zsh read it when they start, so Up + Enter runs the command; a shell that
// keeps no history (dash) is passed over for /bin/bash when the sandbox has
// one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/recipe.h"

namespace jobtape::recorder {

inline constexpr const char* kHistoryPath = "/dev/jobtape-history";

struct ProcessToRerun {
  int32_t pid = 0;
  std::vector<std::string> argv;  // never empty
  std::string cwd;                // empty when not recorded
  std::string commandLine;        // argv shell-quoted, as typed at a prompt
  std::string status;             // "exit 1", "killed by SIGSEGV", "status unknown"
};

// Process `pid` of job `jobId` in `eventsFile`. Throws DebugShellRefused
// (debug_shell.h) when the file is not that job's or has no such process.
ProcessToRerun findProcessToRerun(const std::filesystem::path& eventsFile, const std::string& jobId, int32_t pid);

// Whether the shell at `path` (inside) keeps a history that HISTFILE names.
bool keepsHistory(const std::string& shellPath);

// The one-line history file; removed when the last owner goes.
class HistoryFile {
 public:
  // Throws DebugShellRefused when it cannot be made.
  explicit HistoryFile(const std::string& line);
  ~HistoryFile();
  HistoryFile(const HistoryFile&) = delete;
  HistoryFile& operator=(const HistoryFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace jobtape::recorder
