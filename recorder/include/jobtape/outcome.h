// How a job ended and what it used: the words every layer of jobtape shares.
//
// The sandbox produces these, the events file and the store keep them, the
// views print them; each takes them from here, so an outcome has one list of
// values, one spelling and one set of figures. Header-only and standard C++
// only, like the rest of the public API.
//
// The enumerators have the numbers of schema::Outcome in events.capnp
// (events_codec.cc checks each one at compile time); the spellings are what
// the store's `outcome` column and every --json hold, so both only grow.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace jobtape {

enum class Outcome {
  exited,            // ran and exited; exitCode says how
  signaled,          // killed by `signal`
  timedOut,          // wall-clock limit hit; the tree was killed (exit 124)
  setupFailed,       // the sandbox could not be set up (setupStep, setupErrno)
  commandNotFound,   // exit 127
  notExecutable,     // exit 126
  seccompViolation,  // killed for violatingSyscall
  cancelled,         // stopped through a CancelToken; `signal` says which
};

// Indexed by the enumerator: one spelling each, in enumerator order.
inline constexpr std::array<const char*, 8> kOutcomeNames = {
    "exited",         "signaled",       "timed-out",         "setup-failed",
    "command-not-found", "not-executable", "seccomp-violation", "cancelled",
};
static_assert(static_cast<std::size_t>(Outcome::cancelled) + 1 == kOutcomeNames.size(),
              "every Outcome has exactly one name");

// "exited", "timed-out", ...
constexpr const char* outcomeName(Outcome outcome) noexcept {
  auto index = static_cast<std::size_t>(outcome);
  return index < kOutcomeNames.size() ? kOutcomeNames[index] : "unknown";
}

// The Outcome spelled `name` (as outcomeName() spells it), or nullopt.
constexpr std::optional<Outcome> outcomeNamed(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kOutcomeNames.size(); ++i) {
    if (name == kOutcomeNames[i]) return static_cast<Outcome>(i);
  }
  return std::nullopt;
}

// What a process (or a whole process tree) used, as getrusage(2) reports it.
// A job's row in the store keeps the first three figures only.
struct ResourceUsage {
  std::chrono::nanoseconds userCpu{0};
  std::chrono::nanoseconds systemCpu{0};
  uint64_t maxRssBytes = 0;
  uint64_t minorFaults = 0;
  uint64_t majorFaults = 0;
  uint64_t inBlocks = 0;
  uint64_t outBlocks = 0;
  uint64_t voluntarySwitches = 0;
  uint64_t involuntarySwitches = 0;

  bool operator==(const ResourceUsage&) const = default;
};

}  // namespace jobtape
