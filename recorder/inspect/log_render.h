// Renders a job's recorded events for people and their tools (`job logs`):
// raw text, text with elapsed-time prefixes, one JSON object per event, or
// an asciinema v2 cast.
//
// Events are fed in file order, so the renderer also works while a job is
// still being followed. Output goes to a ByteSink; the renderer never touches
// a file descriptor itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <jobtape/views.h>

#include "recorder/events/event_reader.h"
#include "recorder/inspect/job_json.h"

namespace jobtape::recorder {

// The formats and filters are the public ones (<jobtape/views.h>).
using jobtape::LogFormat;
using jobtape::StreamFilter;

struct LogOptions {
  LogFormat format = LogFormat::text;
  StreamFilter streams = StreamFilter::both;
  // Text only: each line starts with "[   1.234s] ", the time since the job
  // started at which the line's first byte was read.
  bool timestamps = false;
  // Only the last N lines of (filtered) output; a last line without '\n'
  // counts. Non-output events before the cut are dropped too (json).
  std::optional<size_t> tailLines;
  // The cast's terminal size (the recording has none: pipes, not a tty).
  unsigned castWidth = 80;
  unsigned castHeight = 24;
  // The cast header's duration, when the caller knows it before the events
  // (a finished job's file read once ahead): a cast streams, held by nothing.
  std::optional<uint64_t> castDurationNs;
};

// --tail keeps at most this much output (one line longer than this is cut
// to its last kTailWindowBytes; LogRenderer::tailCut() says so).
inline constexpr size_t kTailWindowBytes = size_t{32} << 20;

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::string_view bytes) = 0;
};

class StringSink : public ByteSink {
 public:
  void write(std::string_view bytes) override { text.append(bytes); }
  std::string text;
};

// "[   1.234s] " for 1.234 s after the start.
std::string elapsedPrefix(uint64_t elapsedNs);

class JsonWriter;

class LogRenderer {
 public:
  LogRenderer(const JobDescription& description, const LogOptions& options, ByteSink& sink);

  // The next event after the description, in file order. Text and json
  // stream straight through; a tail or a cast (whose header holds the
  // duration) is held until catchUp().
  void add(const Event& event);
  // Everything that exists now has been added: writes what was held back;
  // from here on add() writes at once (follow mode).
  void catchUp();
  // No more events will come (a partial UTF-8 character of a cast is flushed).
  void finish();
  // What exec tracing missed, once its event was added (json writes it as an
  // event; text and cast carry only output, so the caller says it aside).
  const std::optional<sandbox::TracingShortfall>& tracingIncomplete() const { return tracingIncomplete_; }
  // Bytes of the tail that were dropped to keep within kTailWindowBytes.
  uint64_t tailCut() const { return tailCut_; }

 private:
  bool holding() const { return !caughtUp_ && options_.tailLines.has_value(); }
  void cutHeldToWindow();
  bool wanted(const OutputEvent& output) const;
  void hold(const Event& event);
  void trimHeld();
  void emit(const Event& event);
  void emitText(const OutputEvent& output);
  void emitJson(const Event& event);
  void emitCast(const OutputEvent& output);
  void writeCastHeader(std::optional<uint64_t> durationNs);
  void writeJsonStarted();

  const JobDescription& description_;
  LogOptions options_;
  ByteSink& sink_;
  bool caughtUp_ = false;
  bool headerWritten_ = false;

  // Held events (tail/cast) and how many newlines their output holds.
  std::deque<Event> held_;
  size_t heldNewlines_ = 0;
  size_t heldBytes_ = 0;  // output bytes in held_
  uint64_t tailCut_ = 0;
  std::optional<uint64_t> finishedNs_;
  uint64_t lastNs_ = 0;
  std::optional<sandbox::TracingShortfall> tracingIncomplete_;

  bool atLineStart_ = true;  // text --timestamps
  // Cast: the terminal stream's state across chunks.
  std::string castCarry_;  // incomplete UTF-8 character from the last chunk
  char castLast_ = 0;      // last byte written, to turn "\n" into "\r\n"
  uint64_t castLastNs_ = 0;
};

}  // namespace jobtape::recorder
