// Conversion between the recorder's plain event records and the
// stream-framed Cap'n Proto messages of the events file (recorder/events/events.capnp).
//
// Encoding runs on the thread that captures output, so it does exactly one
// copy of the payload: the message is built straight into a word-aligned
// buffer that already starts with the stream framing's segment table.
#pragma once

#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include <kj/array.h>

#include "recorder/events/event_types.h"
#include "recorder/events/events.capnp.h"

namespace jobtape::recorder {

// jobStarted.magic and jobStarted.formatVersion of the files we write.
inline constexpr const char* kEventsMagic = "jobtape-events";
inline constexpr uint32_t kEventsFormatVersion = 1;

// One message exactly as it goes into the zstd stream: segment table, then
// segments (capnp::writeMessage framing).
class EncodedEvent {
 public:
  EncodedEvent() = default;
  EncodedEvent(kj::Array<capnp::word> words, size_t wordCount)
      : words_(kj::mv(words)), wordCount_(wordCount) {}
  const char* data() const { return reinterpret_cast<const char*>(words_.begin()); }
  size_t size() const { return wordCount_ * sizeof(capnp::word); }

 private:
  kj::Array<capnp::word> words_;
  size_t wordCount_ = 0;
};

EncodedEvent encodeJobStarted(const JobDescription& description);
// `bytes` must be at most kMaxOutputChunk long; the writer splits larger ones.
EncodedEvent encodeOutput(sandbox::Stream stream, uint64_t elapsedNs, std::span<const char> bytes);
EncodedEvent encodeExec(const sandbox::ExecRecord& exec, bool spawned);
EncodedEvent encodeProcessExit(const sandbox::ProcessExitRecord& exit,
                               const sandbox::ResourceUsage* rusage);
EncodedEvent encodeTracingIncomplete(const sandbox::TracingShortfall& shortfall);
EncodedEvent encodeJobFinished(const sandbox::RunResult& result);

// The largest output payload of one event.
inline constexpr size_t kMaxOutputChunk = size_t{1} << 20;

// The most entries any list of an event may hold (an exec's argv; a
// recipe's args, env, mounts, meta, secretEnv). The writer keeps an exec's
// first kMaxListEntries arguments; the reader refuses a longer list as
// damage before it copies one entry, so a hostile message cannot make it
// allocate per entry.
inline constexpr size_t kMaxListEntries = 65'536;

// Copies one message into the plain view. Reading an untrusted message can
// throw kj::Exception (bad pointers, limits); the caller treats that as
// damage.
Event decodeEvent(schema::Event::Reader event);

// "succeeded" iff the job exited with status 0, else "failed".
schema::Result resultOf(const sandbox::RunResult& result);

}  // namespace jobtape::recorder
