// Replaces secret values by "***" in recorded text: whole strings (argv,
// command lines) and output streams that arrive in chunks.
//
// Every byte covered by an occurrence of a secret is masked, and each run of
// covered bytes (overlapping or adjacent occurrences, of one secret or of
// several) becomes one "***". A stream gives the same bytes however its
// output was cut into chunks: a chunk's end that could be the start of a
// secret (at most the longest secret's length - 1 bytes) is held back until
// the next chunk tells, or until finish(). Values shorter than kMinLength
// bytes are not searched for: "1", "true" or "main" would mask half a log.
//
// Cost: nothing when there are no secrets (empty(): callers skip the mask);
// otherwise one memmem pass per secret over each chunk, plus a KMP pass over
// at most a secret's length at the chunk's end; linear in the output for
// any output that is not the secret's own periodic repetition.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace jobtape::recorder {

inline constexpr std::string_view kMaskedText = "***";

class SecretMask {
 public:
  static constexpr size_t kMinLength = 6;

  SecretMask() = default;
  // Values shorter than kMinLength and repeated values are dropped.
  explicit SecretMask(const std::vector<std::string>& values);

  bool empty() const { return needles_.empty(); }
  size_t maxLength() const { return maxLength_; }

  // `text` with every secret masked.
  std::string maskText(std::string_view text) const;

  struct Needle {
    std::string value;
    std::vector<size_t> border;  // KMP: border[i] = longest proper border of value[0..i]
  };
  const std::vector<Needle>& needles() const { return needles_; }

 private:
  std::vector<Needle> needles_;
  size_t maxLength_ = 0;
};

// One output stream through a mask. The mask must outlive the stream.
class MaskedStream {
 public:
  explicit MaskedStream(const SecretMask& mask) : mask_(mask) {}

  // The bytes of `chunk` (and of what was held back) that are final now,
  // masked. The view is valid until the next call; it may be `chunk` itself.
  std::string_view feed(std::string_view chunk);
  // Everything still held back, masked; the stream is empty afterwards.
  std::string_view finish();

  size_t heldBack() const { return tail_.size(); }

 private:
  std::string_view process(std::string_view buffer, bool final);

  const SecretMask& mask_;
  std::string tail_;        // raw bytes held back
  size_t coveredPrefix_ = 0;  // leading bytes of tail_ inside a run already shown as "***"
  bool lastCovered_ = false;  // the last byte given out was part of a masked run
  std::string joined_;      // tail_ + chunk, when there was a tail
  std::string out_;
};

}  // namespace jobtape::recorder
