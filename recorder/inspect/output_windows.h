// The output of a job that belongs to each of its failing processes, as far
// as time can tell.
//
// All processes of a job share one stdout and one stderr pipe, so a byte
// read from them says nothing of who wrote it; only when it arrived. What is
// given to a failing process is therefore a window of time, never a claim of
// authorship:
//
// - `during`: the output that arrived from the process's start (its first
//   exec) to its end (when the supervisor noticed it). A line is `alone` when
//   no other recorded process was running while any of its bytes arrived
//   except the process's own line: its ancestors (normally waiting for it)
//   and its descendants (its helpers: cc1 writes the compiler's errors). A
//   window whose every line is alone is `attributed`: anyone else writing
//   then would have to be a process that never exec'd (a forked subshell,
//   a builtin of an ancestor shell). A line that is not alone is the
//   process's `byName` when it names one of the files of the process's
//   command (an argument that looks like a path, by its base name: "bad.c"
//   for "src/bad.c") and none of the files of the other processes running
//   then, or when it names none of theirs and follows, on its stream, a line
//   that is alone or its own by name (a compiler's message and the source
//   lines quoted under it). That is likely, not certain: a file's name can
//   be written by anyone.
// - `after`: the output that arrived after it ended and before any process
//   outside its own line started or ended (its ancestors end after it: a
//   shell wrapping it, the make or ninja that ran it), not counting the
//   helpers of commands still running at its end (the build tool has not
//   moved on when the other compiler of `ninja -j2` starts its assembler). Build tools that capture their
//   commands' output (ninja, ctest --output-on-failure, meson test) print it
//   then, with their own report of the failure. A line there is `alone`
//   when only the process's ancestors (and what is left of its helpers)
//   were running: it came from them, or from it, still in the pipe.
//   Under load the build tool can be late: the other compiler of `ninja
//   -j2` ends before ninja prints the failed one's report. When nothing in
//   the window named the process's files, `after` goes on with the build
//   tool's late report: to the end of the record (what the build tool
//   wrote just before it ended is often read after it), the first run of lines
//   that begins with one naming its files and none of the others running
//   since its end, up to the first line that names one of theirs.
//
// The supervisor reads output and notices ends in turns, so a line written
// just before a process ended can be stamped after its end (more so when it
// wrote more than one 64 KiB read), and one written right after it (a
// build tool's report) before it: renderWhatFailed reads `during` and
// `after` as one for that reason.
//
// Lines are split at '\n' per stream; a line is cut after kMaxLineBytes. Of
// each window the first `headLines` and the last `tailLines` lines are kept,
// with the count of those left out between.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recorder/events/event_reader.h"
#include "recorder/inspect/failed_processes.h"
#include "recorder/inspect/job_summary.h"

namespace jobtape::recorder {

inline constexpr size_t kMaxLineBytes = 4096;

struct WindowLine {
  sandbox::Stream stream = sandbox::Stream::stdout_;
  uint64_t elapsedNs = 0;  // when its last byte arrived
  std::string text;        // without the '\n'; raw bytes
  bool alone = false;      // nothing outside the process's own line was running meanwhile
  bool byName = false;     // not alone, but its own by the files it names (see above)
  bool cut = false;        // longer than kMaxLineBytes: the rest is left out
};

struct LineWindow {
  uint64_t beginNs = 0;
  std::optional<uint64_t> endNs;  // nullopt: to the end of the record
  std::vector<WindowLine> lines;  // the kept ones, in order
  size_t omittedAt = 0;           // index in `lines` before which `omitted` lines were left out
  uint64_t omitted = 0;
  uint64_t totalLines = 0;
};

struct FailureOutput {
  LineWindow during;
  LineWindow after;
  // Recorded processes outside the failing one's line that ran at some time
  // during its life.
  size_t concurrentProcesses = 0;
  bool attributed = true;        // every line during it was alone (so also when there was none)
  bool attributedByName = true;  // every line during it was alone or its own by name
};

struct WindowLimits {
  size_t headLines = 20;
  size_t tailLines = 200;
};

// Reads the output events of `reader` (just opened: nothing read past the
// description) into one FailureOutput per chain of `chains`, in order.
std::vector<FailureOutput> collectFailureOutput(EventReader& reader, const ProcessTree& tree,
                                                const std::vector<FailingChain>& chains,
                                                const WindowLimits& limits = {});

}  // namespace jobtape::recorder
