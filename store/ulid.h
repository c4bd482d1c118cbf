// ULIDs: 26 characters of Crockford base32, 10 for a 48-bit millisecond
// timestamp and 16 for 80 random bits. They sort by time as plain text, which
// lets the store find an id prefix with one index range scan.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace jobtape::store {

inline constexpr size_t kUlidLength = 26;

// The fewest characters of an id jobtape prints (more when another id shares
// them). The first 10 are the millisecond; 2 more reach into the random
// part, so a printed id stays unambiguous when later jobs arrive: a later
// millisecond differs in the time digits, and ids drawn in the same
// millisecond differ in the first two random digits (UlidGenerator), or, from
// another process, share them with a chance of 1 in 1024.
inline constexpr size_t kShortIdLength = 12;

// Canonical Crockford base32 digits, in value order.
inline constexpr std::string_view kCrockfordDigits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct UlidParts {
  uint64_t timeMs = 0;          // 48 bits
  std::array<uint8_t, 10> random{};  // 80 bits, big-endian
};

std::string formatUlid(const UlidParts& parts);

// Upper-cases and maps the Crockford aliases (I, L -> 1; O -> 0). nullopt if
// `text` holds a character that is no Crockford digit. Accepts any length up
// to 26 (prefixes); an empty text gives "".
std::optional<std::string> normaliseUlidPrefix(std::string_view text);

// True for a canonical 26-character ULID (upper case, first digit <= 7).
bool isUlid(std::string_view text);

// Millisecond timestamp of a canonical ULID.
uint64_t ulidTimeMs(std::string_view ulid);

// Generates ULIDs that increase strictly within the process: within one
// millisecond (or if the clock steps back) the random part of the previous id
// grows instead of being drawn again. It grows by a random step of 1 to 31
// units of its second digit (not by one, as the ULID spec's monotonic mode
// does): a build and its first job, made in the same millisecond, then differ
// within kShortIdLength characters instead of in the last one. Near the top
// of the range (after a few dozen ids in one millisecond) it grows by one. Thread-safe;
// re-seeds after fork so a child never repeats its parent's sequence.
class UlidGenerator {
 public:
  std::string next(uint64_t nowMs);
  std::string next();  // wall clock

 private:
  std::mutex mutex_;
  UlidParts last_;
  int owner_ = 0;  // pid that drew last_
};

// The process-wide generator used by the store for job and build ids.
UlidGenerator& processUlidGenerator();

}  // namespace jobtape::store
