// Writes a job's events file (events.bin.zst).
//
// FORMAT DESIGN NOTES (the full design comment lives in event_writer.cc and
// must be kept in sync with recorder/events.capnp):
//  - a zstd stream of standard Cap'n Proto stream-framed, unpacked messages,
//    each rooted at schema::Event;
//  - frame 1 holds exactly one message, the jobStarted event;
//  - later frames end at least every 250 ms of activity, every 1 MiB of
//    input, and at finish(), so a killed writer leaves every ended frame
//    readable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sandbox/recipe.h"
#include "sandbox/run_result.h"
#include "sandbox/runner.h"

namespace jobtape::recorder {

struct JobDescription {
  std::string jobId;
  std::string buildId;
  sandbox::Recipe recipe;
  std::string recipeHash;
  std::string host;
  int64_t startedAtUnixNs = 0;
  bool sandboxed = true;
  std::string stateDir;
  std::string kernel;
  uint32_t callerUid = 0;
  uint32_t callerGid = 0;
};

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

  // Thread-compatible (one caller at a time); cheap: compression happens on a
  // writer thread. Output larger than 1 MiB is split into several events.
  virtual void output(sandbox::Stream stream, uint64_t elapsedNs, std::span<const char> bytes) = 0;
  virtual void exec(const sandbox::ExecRecord& exec) = 0;
  virtual void processExit(const sandbox::ProcessExitRecord& exit,
                           const sandbox::ResourceUsage* rusage = nullptr) = 0;
  // Writes jobFinished, ends the frame, syncs per Durability, closes.
  virtual void finish(const sandbox::RunResult& result) = 0;
  // Ends the current frame now (also happens on its own every 250 ms).
  virtual void flush() = 0;
};

}  // namespace jobtape::recorder
