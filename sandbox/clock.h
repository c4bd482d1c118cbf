// The library's two clocks, read in one place.
//
// Monotonic time (CLOCK_MONOTONIC, ns) orders and measures what happens
// during a job: events' elapsed times, timeouts, the replay of a log. Wall
// time (Unix epoch) says when something happened for people and the store:
// a job's start, a row's timestamps. Header-only, like the fd owner, so that
// store/ reads the same clock without depending on the sandbox library.
#pragma once

#include <time.h>

#include <cstdint>

namespace jobtape::sandbox {

inline constexpr uint64_t kNsPerSecond = 1'000'000'000;
inline constexpr int64_t kNsPerMs = 1'000'000;

inline uint64_t monotonicNowNs() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * kNsPerSecond + static_cast<uint64_t>(now.tv_nsec);
}

inline int64_t unixNowNs() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * static_cast<int64_t>(kNsPerSecond) + now.tv_nsec;
}

inline int64_t unixNowMs() noexcept { return unixNowNs() / kNsPerMs; }

}  // namespace jobtape::sandbox
