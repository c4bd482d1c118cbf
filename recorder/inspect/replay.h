// Writes a job's output again with the timing it was recorded with
// (`job replay`), sped up and with long pauses cut short.
//
// Each chunk is due at a point on a schedule computed from the recorded
// times; the replayer sleeps until that point rather than for the gap, so
// time spent writing does not add up into drift over a long log.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <jobtape/views.h>

#include "recorder/events/event_reader.h"

namespace jobtape::recorder {

// The time source, behind an interface so tests can use a fake one.
class ReplayClock {
 public:
  virtual ~ReplayClock() = default;
  virtual uint64_t nowNs() = 0;  // monotonic
  virtual void sleepUntilNs(uint64_t deadlineNs) = 0;
};

// CLOCK_MONOTONIC and clock_nanosleep(TIMER_ABSTIME), restarted on EINTR.
class SteadyReplayClock : public ReplayClock {
 public:
  uint64_t nowNs() override;
  void sleepUntilNs(uint64_t deadlineNs) override;
};

// The options and their check (validateReplayOptions) are public (<jobtape/views.h>).
using jobtape::ReplayOptions;

// Turns recorded times into due times on the replay's own clock (ns since
// the replay started). Pure: the first chunk's lead-in counts as a pause.
class ReplaySchedule {
 public:
  explicit ReplaySchedule(const ReplayOptions& options);
  // Due time of a chunk recorded at `elapsedNs` (non-decreasing input is not
  // required: a chunk that claims to be earlier is due at once).
  uint64_t dueNs(uint64_t elapsedNs);

 private:
  ReplayOptions options_;
  uint64_t lastRecordedNs_ = 0;
  double dueNs_ = 0;
};

class ReplaySink {
 public:
  virtual ~ReplaySink() = default;
  virtual void write(sandbox::Stream stream, std::string_view bytes) = 0;
};

// Pulls output events from `next` (nullopt ends) and writes each when due.
// Returns the number of chunks written.
uint64_t replay(const std::function<std::optional<OutputEvent>()>& next, const ReplayOptions& options,
                ReplayClock& clock, ReplaySink& sink);

}  // namespace jobtape::recorder
