// Writes a job's events file (events.bin.zst).
//
// FORMAT DESIGN NOTES (the full design comment -- constraints, byte layout,
// framing, versioning, recovery -- lives at the top of event_writer.cc and
// must be kept in sync with recorder/events/events.capnp):
//  - a zstd stream of standard Cap'n Proto stream-framed, unpacked messages,
//    each rooted at schema::Event, so that
//      zstd -dc events.bin.zst | capnp decode recorder/events/events.capnp Event
//    prints it;
//  - frame 1 holds exactly one message, the jobStarted event (magic
//    "jobtape-events", formatVersion 1), written before create() returns;
//  - later frames end at least every 250 ms of activity, every 4 MiB of
//    input, on flush() and at finish(), so a killed writer leaves every ended
//    frame readable; every frame carries a zstd checksum; a message never
//    spans two frames;
//  - finish() fdatasyncs when the job failed or with Durability::always.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "recorder/events/event_types.h"
#include "sandbox/recipe.h"
#include "sandbox/run_result.h"
#include "sandbox/runner.h"

namespace jobtape::recorder {


enum class Durability {
  onFailure,  // fdatasync at finish only when the job failed (default)
  always,     // fdatasync at every finish (--durable)
};

class EventWriter {
 public:
  // Creates `path` (must not exist) and writes the description frame.
  // Throws std::system_error naming the path.
  static std::unique_ptr<EventWriter> create(const std::filesystem::path& path,
                                             const JobDescription& description,
                                             Durability durability = Durability::onFailure);
  virtual ~EventWriter() = default;

  // Thread-compatible (one caller at a time); cheap: they copy the bytes into
  // a message and queue it, compression happens on a writer thread (a full
  // 16 MiB queue makes them wait). Output larger than 1 MiB is split into
  // several events. Write errors surface from flush() and finish(); after one,
  // further events are dropped. Calling them after finish() is a logic_error.
  virtual void output(sandbox::Stream stream, uint64_t elapsedNs, std::span<const char> bytes) = 0;
  // The first exec given is recorded as the job's main process (spawned).
  virtual void exec(const sandbox::ExecRecord& exec) = 0;
  virtual void processExit(const sandbox::ProcessExitRecord& exit,
                           const sandbox::ResourceUsage* rusage = nullptr) = 0;
  virtual void tracingIncomplete(const sandbox::TracingShortfall& shortfall) = 0;
  // Writes jobFinished, ends the frame, syncs per Durability, closes.
  // Throws std::system_error naming the path if anything could not be
  // written. Destroying the writer without finish() ends the frame and
  // closes the file without jobFinished (what a crash would leave).
  virtual void finish(const sandbox::RunResult& result) = 0;
  // Ends the current frame now (also happens on its own every 250 ms) and
  // returns once everything given so far has been written to the file.
  virtual void flush() = 0;
};

}  // namespace jobtape::recorder
