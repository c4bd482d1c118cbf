#include "recorder/inspect/replay.h"

#include "sandbox/clock.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <fmt/format.h>

namespace jobtape::recorder {

uint64_t SteadyReplayClock::nowNs() { return sandbox::monotonicNowNs(); }

void SteadyReplayClock::sleepUntilNs(uint64_t deadlineNs) {
  timespec deadline{};
  deadline.tv_sec = static_cast<time_t>(deadlineNs / sandbox::kNsPerSecond);
  deadline.tv_nsec = static_cast<long>(deadlineNs % sandbox::kNsPerSecond);
  // clock_nanosleep returns the error number instead of setting errno.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

ReplaySchedule::ReplaySchedule(const ReplayOptions& options) : options_(options) {
  validateReplayOptions(options_);
}

uint64_t ReplaySchedule::dueNs(uint64_t elapsedNs) {
  double gap = elapsedNs > lastRecordedNs_ ? static_cast<double>(elapsedNs - lastRecordedNs_) : 0.0;
  lastRecordedNs_ = std::max(lastRecordedNs_, elapsedNs);
  if (options_.maxIdleSeconds) gap = std::min(gap, *options_.maxIdleSeconds * static_cast<double>(sandbox::kNsPerSecond));
  dueNs_ += gap / options_.speed;
  return static_cast<uint64_t>(std::llround(dueNs_));
}

uint64_t replay(const std::function<std::optional<OutputEvent>()>& next, const ReplayOptions& options,
                ReplayClock& clock, ReplaySink& sink) {
  ReplaySchedule schedule(options);
  uint64_t start = clock.nowNs();
  uint64_t written = 0;
  while (auto chunk = next()) {
    uint64_t due = start + schedule.dueNs(chunk->elapsedNs);
    if (clock.nowNs() < due) clock.sleepUntilNs(due);
    sink.write(chunk->stream, chunk->bytes);
    ++written;
  }
  return written;
}

}  // namespace jobtape::recorder

// Public (<jobtape/views.h>): callers check the options before they open anything.
namespace jobtape {

void validateReplayOptions(const ReplayOptions& options) {
  if (!std::isfinite(options.speed) || options.speed <= 0) {
    throw Error(Error::Kind::invalidArgument, fmt::format("speed must be a positive number, not {}", options.speed));
  }
  if (options.maxIdleSeconds && (!std::isfinite(*options.maxIdleSeconds) || *options.maxIdleSeconds < 0)) {
    throw Error(Error::Kind::invalidArgument,
                fmt::format("max idle time must be zero or more seconds, not {}", *options.maxIdleSeconds));
  }
}

}  // namespace jobtape
