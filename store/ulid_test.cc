#include "store/ulid.h"

#include <gtest/gtest.h>

#include "store/test_support.h"

namespace jobtape::store {
namespace {

TEST(Ulid, FormatsTimeAndRandomnessInCrockfordBase32) {
  EXPECT_EQ(formatUlid(UlidParts{}), "00000000000000000000000000");
  UlidParts max;
  max.timeMs = (uint64_t{1} << 48) - 1;
  max.random.fill(0xff);
  EXPECT_EQ(formatUlid(max), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  // The time part of the example in the ULID specification.
  UlidParts example;
  example.timeMs = 1469918176385;
  EXPECT_EQ(formatUlid(example).substr(0, 10), "01ARYZ6S41");
  UlidParts one;
  one.random[9] = 1;
  EXPECT_EQ(formatUlid(one), "00000000000000000000000001");
}

TEST(Ulid, TimeRoundTrips) {
  UlidGenerator generator;
  auto id = generator.next(1'732'000'000'123);
  EXPECT_TRUE(isUlid(id));
  EXPECT_EQ(ulidTimeMs(id), 1'732'000'000'123u);
}

TEST(Ulid, StrictlyIncreasingWithinOneMillisecond) {
  UlidGenerator generator;
  std::string previous = generator.next(1'700'000'000'000);
  for (int i = 0; i < 10'000; ++i) {
    std::string id = generator.next(1'700'000'000'000);
    ASSERT_LT(previous, id);
    ASSERT_EQ(ulidTimeMs(id), 1'700'000'000'000u);
    previous = id;
  }
}

TEST(Ulid, IdsOfOneMillisecondDifferWithinTheShortIdLength) {
  for (int round = 0; round < 200; ++round) {
    UlidGenerator generator;
    std::string build = generator.next(1'700'000'000'000);
    std::string job = generator.next(1'700'000'000'000);
    ASSERT_LT(build, job);
    EXPECT_NE(build.substr(0, kShortIdLength), job.substr(0, kShortIdLength)) << build << " " << job;
  }
}

TEST(Ulid, StaysIncreasingWhenTheClockStepsBack) {
  UlidGenerator generator;
  std::string later = generator.next(1'700'000'005'000);
  std::string earlier = generator.next(1'700'000'000'000);
  EXPECT_LT(later, earlier);
  std::string next = generator.next(1'700'000'005'001);
  std::string afterNext = generator.next(1'700'000'005'002);
  EXPECT_LT(earlier, next);
  EXPECT_LT(next, afterNext);
}

TEST(Ulid, ForkedChildDoesNotRepeatTheParentsSequence) {
  UlidGenerator generator;
  generator.next(1'700'000'000'000);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = testing::forkChild([&] {
    std::string id = generator.next(1'700'000'000'000);
    if (write(fds[1], id.data(), id.size()) != static_cast<ssize_t>(id.size())) throw std::runtime_error("write");
  });
  close(fds[1]);
  std::string childId(26, ' ');
  ASSERT_EQ(read(fds[0], childId.data(), childId.size()), 26);
  close(fds[0]);
  ASSERT_EQ(testing::waitExit(child), 0);
  std::string parentId = generator.next(1'700'000'000'000);
  EXPECT_NE(childId, parentId);
}

TEST(Ulid, NormalisesPrefixes) {
  EXPECT_EQ(normaliseUlidPrefix("01jd4"), "01JD4");
  EXPECT_EQ(normaliseUlidPrefix("oIL"), "011");  // Crockford aliases
  EXPECT_EQ(normaliseUlidPrefix(""), "");
  EXPECT_EQ(normaliseUlidPrefix("01U"), std::nullopt);
  EXPECT_EQ(normaliseUlidPrefix("01-"), std::nullopt);
  EXPECT_EQ(normaliseUlidPrefix("\xc3\xa9"), std::nullopt);
}

TEST(Ulid, RecognisesCanonicalIds) {
  EXPECT_TRUE(isUlid("01ARYZ6S41TSV4RRFFQ69G5FAV"));
  EXPECT_FALSE(isUlid("01aryz6s41tsv4rrffq69g5fav"));  // stored ids are upper case
  EXPECT_FALSE(isUlid("81ARYZ6S41TSV4RRFFQ69G5FAV"));  // beyond 48 bits of time
  EXPECT_FALSE(isUlid("01ARYZ6S41TSV4RRFFQ69G5FA"));
  EXPECT_FALSE(isUlid("01ARYZ6S41TSV4RRFFQ69G5FAU"));
}

}  // namespace
}  // namespace jobtape::store
