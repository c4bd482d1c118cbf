#include "recorder/secret_mask.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace jobtape::recorder {
namespace {

// The stream fed in the given pieces, everything it gave out joined.
std::string streamed(const SecretMask& mask, const std::vector<std::string_view>& pieces) {
  MaskedStream stream(mask);
  std::string out;
  for (auto piece : pieces) out += stream.feed(piece);
  out += stream.finish();
  return out;
}

// The definition, written the slow way: every byte inside an occurrence is
// covered; each run of covered bytes is one "***".
std::string reference(const std::vector<std::string>& secrets, const std::string& text) {
  std::vector<bool> covered(text.size(), false);
  for (const auto& secret : secrets) {
    for (size_t at = 0; at + secret.size() <= text.size(); ++at) {
      if (text.compare(at, secret.size(), secret) == 0) {
        for (size_t i = 0; i < secret.size(); ++i) covered[at + i] = true;
      }
    }
  }
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!covered[i]) out += text[i];
    else if (i == 0 || !covered[i - 1]) out += "***";
  }
  return out;
}

TEST(SecretMask, MasksEveryOccurrence) {
  SecretMask mask({"hunter2hunter2"});
  EXPECT_EQ(mask.maskText("a hunter2hunter2 b hunter2hunter2"), "a *** b ***");
  EXPECT_EQ(mask.maskText("hunter2hunter"), "hunter2hunter");
}

TEST(SecretMask, NoSecretsIsEmptyAndPassesThrough) {
  SecretMask mask(std::vector<std::string>{});
  EXPECT_TRUE(mask.empty());
  EXPECT_EQ(mask.maskText("anything at all"), "anything at all");
}

TEST(SecretMask, ValuesShorterThanSixBytesAreIgnored) {
  SecretMask mask({"12345", "", "true"});
  EXPECT_TRUE(mask.empty());
  SecretMask six({"123456", "12345"});
  EXPECT_EQ(six.maskText("12345 123456"), "12345 ***");
}

TEST(SecretMask, OverlappingAndAdjacentOccurrencesBecomeOneMask) {
  SecretMask mask({"abcabc"});
  EXPECT_EQ(mask.maskText("xabcabcabcx"), "x***x");        // overlapping
  EXPECT_EQ(mask.maskText("xabcabcabcabcx"), "x***x");     // adjacent
  SecretMask two({"secret-one", "one-two-three"});
  EXPECT_EQ(two.maskText("[secret-one-two-three]"), "[***]");
  SecretMask nested({"password123", "word12"});
  EXPECT_EQ(nested.maskText("a password123 word12 b"), "a *** *** b");
}

TEST(SecretMask, SplitAtEveryOffsetGivesTheWholeTextsResult) {
  SecretMask mask({"hunter2hunter2", "abcabc", "secret-one", "one-two-three"});
  const std::string text =
      "start hunter2hunter2 mid hunter2hunter2hunter2hunter2 xabcabcabcx [secret-one-two-three] "
      "hunter2hunte end hunter2hunter2";
  const std::string whole = mask.maskText(text);
  EXPECT_EQ(whole, "start *** mid *** x***x [***] hunter2hunte end ***");
  for (size_t i = 0; i <= text.size(); ++i) {
    std::string_view view(text);
    EXPECT_EQ(streamed(mask, {view.substr(0, i), view.substr(i)}), whole) << "split at " << i;
    for (size_t j = i; j <= text.size(); j += 7) {
      EXPECT_EQ(streamed(mask, {view.substr(0, i), view.substr(i, j - i), view.substr(j)}), whole)
          << "split at " << i << " and " << j;
    }
  }
}

TEST(SecretMask, ByteByByteGivesTheWholeTextsResult) {
  SecretMask mask({"hunter2hunter2", "aaaaaa"});
  const std::string text = "xx hunter2hunter2 aaaaaaaaa b aaaaa hunter2 hunter2hunter2";
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) bytes.push_back(std::string_view(text).substr(i, 1));
  EXPECT_EQ(streamed(mask, bytes), mask.maskText(text));
  EXPECT_EQ(mask.maskText(text), "xx *** *** b aaaaa hunter2 ***");
}

TEST(SecretMask, RandomSplitsOfRandomTextMatchTheWholeText) {
  const std::vector<std::string> secrets = {"ababab", "babbab", "aabbaabb"};
  SecretMask mask(secrets);
  std::mt19937 random(7);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "ab"[random() % 2];
    std::vector<std::string_view> pieces;
    for (size_t at = 0; at < text.size();) {
      size_t n = std::min<size_t>(1 + random() % 9, text.size() - at);
      pieces.push_back(std::string_view(text).substr(at, n));
      at += n;
    }
    std::string out = streamed(mask, pieces);
    ASSERT_EQ(out, reference(secrets, text)) << text;
    EXPECT_EQ(out.find("ababab"), std::string::npos);
  }
}

TEST(SecretMask, HoldsBackOnlyWhatCouldStartASecret) {
  SecretMask mask({"hunter2hunter2"});
  MaskedStream stream(mask);
  EXPECT_EQ(stream.feed("plain line\n"), "plain line\n");
  EXPECT_EQ(stream.heldBack(), 0u);
  EXPECT_EQ(stream.feed("value: hunt"), "value: ");
  EXPECT_EQ(stream.heldBack(), 4u);
  EXPECT_EQ(stream.feed("er2hunter2 done\n"), "*** done\n");
  EXPECT_EQ(stream.feed("hunt"), "");
  EXPECT_EQ(stream.finish(), "hunt");
}

TEST(SecretMask, AChunkWithoutSecretsComesBackAsIs) {
  SecretMask mask({"hunter2hunter2"});
  MaskedStream stream(mask);
  std::string chunk(1 << 16, 'x');
  std::string_view out = stream.feed(chunk);
  EXPECT_EQ(out.data(), chunk.data());  // no copy
  EXPECT_EQ(out.size(), chunk.size());
}

}  // namespace
}  // namespace jobtape::recorder
