// jobtape: what failed in a recorded job, at a glance.
//
// From a job's events file, the processes that failed (exited non-zero or
// were killed by a signal), reduced to the commands the build tool ran:
// `cc -c bad.c -o bad.o`, not the make above it, not the cc1 below it. Each
// comes with its chain (the job's main process down to it), its failing
// helpers, and the output that arrived while it ran.
//
//   jobtape::WhatFailed failed = jobtape::whatFailed(result.eventsFile);
//   for (const auto& process : failed.processes) use(process.commandLine, process.during.lines);
//
// The reduction, walking down from the job's main process while it failed:
// a failing child explains its failing parent when the parent is a build
// driver (make, ninja, ctest, cmake --build, meson compile, cargo, ...), or,
// for any other parent that is not itself a compiler driver, when the child
// is not a compiler's helper (cc1, as, ld, ...), ended the same way
// (the same status; 128+N for signal N; both killed by a signal), ended last
// of its failing siblings, and its parent ran nothing after it. A failing
// process that no failing child explains is a failed process of the job.
// Other failures (a configure test, `grep` in an `if`) were tolerated and are
// not listed. Exit statuses of processes other than the job's main one are
// known on Linux 6.15 and later only (PIDFD_INFO_EXIT).
//
// Output is attributed by time, not by author: every process of a job
// writes to the same pipes. `during` holds what arrived while the process
// ran; a line is `alone` when no recorded process outside the process's own
// line (its ancestors, which wait for it, and its descendants, its helpers)
// was running while it arrived, and a window of such lines only is
// `attributed`. A line that is not alone is the process's `byName` when it
// names a file of the process's command ("bad.c" for `cc -c src/bad.c`) and
// none of the files of the others running then, or names none of theirs and
// follows such a line (a compiler's message and the source it quotes): likely,
// not certain. `after` holds what arrived after it ended and before any
// process outside its line started or ended: where ninja and ctest print a
// command's captured output. Processes that never exec'd (forked subshells) are not
// recorded and cannot be told apart.
//
// Uses only standard C++ types, like <jobtape/recorder.h>.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <jobtape/recorder.h>

namespace jobtape {

// One recorded process, as it ran its last program (a shell that exec'd a
// compiler is that compiler).
struct RecordedProcess {
  int pid = 0;   // inside the job's pid namespace
  int ppid = 0;  // 0 when unknown
  std::vector<std::string> argv{};  // raw bytes, as passed to execve
  std::string executable{};         // the path passed to execve
  std::string cwd{};                // its working directory at that exec
  std::chrono::nanoseconds start{0};                  // since the job started
  std::optional<std::chrono::nanoseconds> duration{};  // nullopt: its end was not recorded
  bool statusKnown = false;
  std::optional<int> exitCode{};  // when it exited (statusKnown)
  int signal = 0;                 // when a signal killed it
  std::string role{};  // "build driver", "compiler driver", "compiler helper" or "other"

  bool failed() const noexcept { return statusKnown && (signal != 0 || exitCode.value_or(0) != 0); }
};

struct OutputLine {
  OutputStream stream = OutputStream::stdout_;
  std::chrono::nanoseconds at{0};  // when its last byte arrived, since the job started
  std::string text{};              // raw bytes without the '\n'
  bool alone = false;   // only the process's own line (ancestors, itself, descendants) was running
  bool byName = false;  // not alone, but likely its own: it names the process's files and no one else's
  bool cut = false;    // the line was longer than 4 KiB; the rest is left out
};

struct OutputWindow {
  std::chrono::nanoseconds begin{0};
  std::optional<std::chrono::nanoseconds> end{};  // nullopt: to the end of the record
  // The first WhatFailedOptions::headLines and the last tailLines lines;
  // `omitted` lines between them were left out, before lines[omittedAt].
  std::vector<OutputLine> lines{};
  std::size_t omittedAt = 0;
  std::uint64_t omitted = 0;
  std::uint64_t totalLines = 0;
};

struct FailedProcess {
  RecordedProcess process{};
  // argv, shell-quoted: what to type in process.cwd to run it again (the
  // job's environment is recorded, a process's own changes to it are not).
  std::string commandLine{};
  std::vector<RecordedProcess> chain{};          // the job's main process first, `process` last
  std::vector<RecordedProcess> failedHelpers{};  // failing processes below it (cc1 under cc)
  OutputWindow during{};  // output that arrived while it ran
  OutputWindow after{};   // after it ended, before a process outside its line started or ended
  bool attributed = false;              // every line of `during` was alone
  bool attributedByName = false;        // every line of `during` was alone or its own by name
  std::size_t concurrentProcesses = 0;  // other processes (outside its line) that ran meanwhile
};

struct WhatFailed {
  std::string jobId{};
  std::string workDir{};   // the job's work dir, as its recipe says (empty: its default)
  bool finished = false;   // the record ends with the job's end
  bool succeeded = false;  // the job succeeded (then `processes` is empty)
  std::vector<FailedProcess> processes{};  // in the order they started
  std::size_t processesRecorded = 0;
  std::size_t processesFailed = 0;        // every failing process, the tolerated ones too
  std::size_t processesStatusUnknown = 0;  // ended without a known status (kernel before 6.15)
  bool tracingIncomplete = false;          // the exec tracer missed some execs or exits
};

struct WhatFailedOptions {
  std::size_t headLines = 20;   // of each output window, the first lines kept
  std::size_t tailLines = 200;  // ... and the last
};

// Reads `eventsFile` (complete, or as far as it can be read: a running or
// damaged job gives what is known so far). Throws Error (Kind::io) when the
// file is no events file.
WhatFailed whatFailed(const std::filesystem::path& eventsFile, const WhatFailedOptions& options = {});

// How renderWhatFailed writes for a reader.
struct WhatFailedTextOptions {
  // Makes recorded text (argv, paths, output) safe where it goes, e.g. a
  // terminal. Required: recorded bytes come from the job.
  std::function<std::string(std::string_view)> escape{};
  // Decorates a failure's status ("exit 1", "SIGKILL"), e.g. in red; and
  // notes, e.g. dimmed. Optional.
  std::function<std::string(std::string_view)> failure{};
  std::function<std::string(std::string_view)> note{};
  std::size_t maxLines = 14;  // the whole text, however many processes failed
  std::size_t width = 100;    // commands are shortened to one line of this many columns
  bool wide = false;          // commands in full, however long
  bool chains = false;        // each process's chain and failing helpers too
  std::string indent = "  ";
};

// A few lines: each failed process's command on one line with its status,
// then the lines of its output (`during`, then `after`, read as one: from
// the first line telling of trouble, "error", "fatal", "failed", else the
// last ones), each marked with how sure the attribution is (│ while it ran,
// alone or naming its files; ┆ while others ran too; ╎ after it ended), and
// a note with its pid and its directory (./sub below the job's work dir).
// Empty when nothing failed.
std::string renderWhatFailed(const WhatFailed& failed, const WhatFailedTextOptions& options);

// "exit 1", "SIGSEGV", "status unknown"
std::string processStatusText(const RecordedProcess& process);

}  // namespace jobtape
