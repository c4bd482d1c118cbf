// A job's events file (events.bin.zst) read as typed values: what the job
// was, the output it wrote, the processes it exec'd and their exits, how it
// finished. The file needs no store: it is the whole record of the job.
//
//   auto events = jobtape::JobEvents::open("jobs/01JD.../events.bin.zst");
//   while (auto event = events->next()) {
//     if (auto* chunk = std::get_if<jobtape::OutputChunk>(&*event)) std::cout << chunk->bytes;
//   }
//
// The schema of record is events.capnp, installed in share/jobtape/ (a zstd
// stream of Cap'n Proto messages; `capnp decode` reads it too). Times inside
// a job are nanoseconds since the job started. Recorded bytes are as the job
// wrote them, secret values already "***": escape them before a terminal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <jobtape/recorder.h>

namespace jobtape {

// The first message of the file: the job as it was started.
struct JobDescription {
  std::string jobId{};
  std::string buildId{};
  Recipe recipe{};  // as recorded: secret values are "***"
  std::string recipeHash{};
  std::string host{};
  int64_t startedAtUnixNs = 0;
  bool sandboxed = true;
  std::string stateDir{};  // where the sandbox's writable state was kept
  std::string kernel{};
  uint32_t callerUid = 0;
  uint32_t callerGid = 0;
  // Its stdout and stderr were pseudo-terminals of its own (JobOptions::terminal).
  bool terminal = false;
};

// Bytes the job wrote to one of its pipes.
struct OutputChunk {
  OutputStream stream = OutputStream::stdout_;
  uint64_t elapsedNs = 0;
  std::string bytes{};
};

// A program a process of the job started running: the job's main process
// (`spawned`) or an execve the exec tracer saw. Pids are those inside the
// job's pid namespace.
struct ProcessExec {
  uint64_t elapsedNs = 0;
  int32_t pid = 0;
  int32_t ppid = 0;
  std::string executable{};
  std::vector<std::string> argv{};  // raw bytes
  std::string cwd{};
  bool spawned = false;
};

// A traced process ended.
struct ProcessExit {
  uint64_t elapsedNs = 0;
  int32_t pid = 0;
  bool statusKnown = false;  // false: the kernel could not tell its status
  int exitCode = -1;
  int signal = 0;
  ResourceUsage rusage{};
};

// The job ended: the last event of a complete file.
struct JobFinish {
  std::string result{};  // "succeeded" | "failed" | "abandoned"
  Outcome outcome = Outcome::exited;
  int exitCode = 0;  // what a shell would see: N, 128+signal, 124, 126, 127
  int signal = 0;
  std::string message{};  // one line for humans
  std::string setupStep{};  // with Outcome::setupFailed
  int setupErrno = 0;
  std::string violatingSyscall{};  // with Outcome::seccompViolation
  uint64_t elapsedNs = 0;
  ResourceUsage rusage{};  // the whole process tree
};

// What exec tracing could not record (at most one, before JobFinish): the
// process tree is incomplete by these counts.
struct TracingShortfall {
  uint64_t elapsedNs = 0;
  uint64_t missedExecs = 0;  // execs that ran but are not recorded
  uint64_t missedExits = 0;  // recorded execs whose end was not followed
  std::string reason{};      // e.g. "out of descriptors"
};

// One event after the description, in file order. Kinds written by a newer
// jobtape than this library are skipped.
using Event = std::variant<OutputChunk, ProcessExec, ProcessExit, JobFinish, TracingShortfall>;

// Where reading stopped early (a truncated or damaged tail).
struct EventsDamage {
  uint64_t offset = 0;  // byte offset in the compressed file
  std::string reason{};  // one line
};

// The events file cannot be read at all (Kind::io): not an events file, or,
// for a job of a store, gone (removed by gc). what() names the path.
class EventsFileError : public Error {
 public:
  EventsFileError(const std::string& message, bool gone);
  bool gone() const noexcept { return gone_; }

 private:
  bool gone_;
};

// Reads one events file front to back. Untrusted input: Cap'n Proto's
// traversal and nesting limits apply, and memory stays bounded.
class JobEvents {
 public:
  // The file on its own: followed (nextFollowing) until its JobFinish, like
  // `tail -f`. A job of a store is better opened through Home::events(),
  // which also stops following when the store says the job ended. Throws
  // EventsFileError.
  static std::unique_ptr<JobEvents> open(const std::filesystem::path& eventsFile);

  struct Impl;  // the library's own
  explicit JobEvents(std::unique_ptr<Impl> impl);
  ~JobEvents();
  JobEvents(const JobEvents&) = delete;
  JobEvents& operator=(const JobEvents&) = delete;

  const JobDescription& description() const noexcept;
  const std::filesystem::path& path() const noexcept;

  // The next event that can be read now, or nullopt at the end of what the
  // file holds now.
  std::optional<Event> next();
  // The next event, waiting for the job to write it (inotify, else polling);
  // nullopt once the job finished or stopped and nothing more came, or once
  // `giveUp` (asked while waiting, every 100 ms or so) returns true.
  std::optional<Event> nextFollowing(const std::function<bool()>& giveUp = {});

  // Set once reading stopped at damage; not for the unfinished last frame of
  // a job its store says is still running.
  std::optional<EventsDamage> damage() const;

  Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace jobtape
