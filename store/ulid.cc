#include "store/ulid.h"

#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>

namespace jobtape::store {

namespace {

// Value of a Crockford digit (aliases included), or -1.
int digitValue(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'I' || c == 'L') return 1;
  if (c == 'O') return 0;
  auto position = kCrockfordDigits.find(c);
  return position == std::string_view::npos ? -1 : static_cast<int>(position);
}

void fillRandom(std::array<uint8_t, 10>& bytes) {
  size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    filled += static_cast<size_t>(n);
  }
}

// Adds `step` units of the second random digit (bits 70..74 of the 80-bit
// big-endian number, i.e. step << 70) and draws the digits below it afresh:
// the sum is larger whatever they were, and differs from the previous id in
// its first two random digits. False on overflow. step is 1..31.
bool advanceSecondDigit(std::array<uint8_t, 10>& bytes, unsigned step) {
  // Bit 70 (from the least significant end) is bit 9 from the most
  // significant: byte 1, mask 0x40.
  unsigned carry = step << 6;  // in units of byte 1's bit 0
  std::array<uint8_t, 10> fresh{};
  fillRandom(fresh);
  for (size_t i = 2; i < bytes.size(); ++i) bytes[i] = fresh[i];
  bytes[1] = static_cast<uint8_t>((bytes[1] & 0xC0) | (fresh[1] & 0x3F));
  for (size_t i = 2; i-- > 0;) {
    unsigned sum = bytes[i] + (carry & 0xFF);
    bytes[i] = static_cast<uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return carry == 0;
}

// Adds one to the 80-bit big-endian number; false on overflow.
bool increment(std::array<uint8_t, 10>& bytes) {
  for (size_t i = bytes.size(); i-- > 0;) {
    if (++bytes[i] != 0) return true;
  }
  return false;
}

// A fresh random part with its top bit clear: the first random digit is at
// most 15, which leaves room for a dozen or more steps of advanceSecondDigit() in the
// same millisecond (79 random bits are plenty).
void drawRandom(std::array<uint8_t, 10>& bytes) {
  fillRandom(bytes);
  bytes[0] &= 0x7F;
}

unsigned randomStep() {
  std::array<uint8_t, 10> bytes{};
  fillRandom(bytes);
  return 1 + bytes[0] % 31;
}

}  // namespace

std::string formatUlid(const UlidParts& parts) {
  // 130 bits of output for 128 bits of input: the top two bits are zero.
  std::string out(kUlidLength, '0');
  uint64_t time = parts.timeMs & ((uint64_t{1} << 48) - 1);
  for (int i = 9; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kCrockfordDigits[time & 31];
    time >>= 5;
  }
  // 80 random bits -> 16 digits, 5 bits each, taken from the most significant end.
  const auto& r = parts.random;
  for (int digit = 0; digit < 16; ++digit) {
    int bit = digit * 5;  // offset from the most significant bit
    int value = 0;
    for (int k = 0; k < 5; ++k) {
      int b = bit + k;
      value = (value << 1) | ((r[static_cast<size_t>(b / 8)] >> (7 - b % 8)) & 1);
    }
    out[static_cast<size_t>(10 + digit)] = kCrockfordDigits[static_cast<size_t>(value)];
  }
  return out;
}

std::optional<std::string> normaliseUlidPrefix(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    int value = digitValue(c);
    if (value < 0) return std::nullopt;
    out.push_back(kCrockfordDigits[static_cast<size_t>(value)]);
  }
  return out;
}

bool isUlid(std::string_view text) {
  if (text.size() != kUlidLength || text[0] > '7') return false;
  for (char c : text) {
    if (kCrockfordDigits.find(c) == std::string_view::npos) return false;
  }
  return true;
}

uint64_t ulidTimeMs(std::string_view ulid) {
  uint64_t time = 0;
  for (size_t i = 0; i < 10 && i < ulid.size(); ++i) {
    time = (time << 5) | static_cast<uint64_t>(digitValue(ulid[i]) & 31);
  }
  return time;
}

std::string UlidGenerator::next(uint64_t nowMs) {
  std::lock_guard lock(mutex_);
  int self = static_cast<int>(getpid());
  if (owner_ != self || nowMs > last_.timeMs) {
    owner_ = self;
    last_.timeMs = std::max(nowMs, last_.timeMs);
    drawRandom(last_.random);
  } else if (std::array<uint8_t, 10> advanced = last_.random; advanceSecondDigit(advanced, randomStep())) {
    last_.random = advanced;
  } else if (advanced = last_.random; advanceSecondDigit(advanced, 1)) {
    last_.random = advanced;
  } else if (!increment(last_.random)) {
    // Past the top of the random part's second digit the steps are ones
    // (dozens of ids in one millisecond); 2^80 of them borrow the next
    // millisecond.
    ++last_.timeMs;
    drawRandom(last_.random);
  }
  return formatUlid(last_);
}

std::string UlidGenerator::next() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return next(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
}

UlidGenerator& processUlidGenerator() {
  static UlidGenerator generator;
  return generator;
}

}  // namespace jobtape::store
