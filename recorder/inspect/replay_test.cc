#include "recorder/inspect/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace jobtape::recorder {
namespace {

using sandbox::Stream;
using ::testing::ElementsAre;

constexpr uint64_t kMs = 1'000'000;

// Time moves only when the replayer sleeps (plus `costNs` per look at the
// clock, to stand for the time writing takes).
class FakeClock : public ReplayClock {
 public:
  explicit FakeClock(uint64_t startNs = 5'000 * kMs, uint64_t costNs = 0) : now_(startNs), cost_(costNs) {}
  uint64_t nowNs() override {
    now_ += cost_;
    return now_;
  }
  void sleepUntilNs(uint64_t deadlineNs) override {
    sleeps.push_back(deadlineNs > now_ ? deadlineNs - now_ : 0);
    now_ = std::max(now_, deadlineNs);
  }
  std::vector<uint64_t> sleeps;

 private:
  uint64_t now_;
  uint64_t cost_;
};

class RecordingSink : public ReplaySink {
 public:
  void write(Stream stream, std::string_view bytes) override {
    (stream == Stream::stdout_ ? out : err).append(bytes);
    order.append(bytes);
  }
  std::string out, err, order;
};

std::function<std::optional<OutputEvent>()> source(std::vector<OutputEvent> events) {
  auto shared = std::make_shared<std::vector<OutputEvent>>(std::move(events));
  auto index = std::make_shared<size_t>(0);
  return [shared, index]() -> std::optional<OutputEvent> {
    if (*index >= shared->size()) return std::nullopt;
    return (*shared)[(*index)++];
  };
}

std::vector<OutputEvent> twoSecondJob() {
  return {{Stream::stdout_, 100 * kMs, "a\n"},
          {Stream::stderr_, 600 * kMs, "b\n"},
          {Stream::stdout_, 1100 * kMs, "c\n"},
          {Stream::stdout_, 2000 * kMs, "d\n"}};
}

TEST(Replay, OriginalTimingAtSpeedOne) {
  FakeClock clock;
  RecordingSink sink;
  EXPECT_EQ(replay(source(twoSecondJob()), {}, clock, sink), 4u);
  EXPECT_THAT(clock.sleeps, ElementsAre(100 * kMs, 500 * kMs, 500 * kMs, 900 * kMs));
  EXPECT_EQ(sink.order, "a\nb\nc\nd\n");
  EXPECT_EQ(sink.out, "a\nc\nd\n");
  EXPECT_EQ(sink.err, "b\n");
}

TEST(Replay, SpeedTenDividesEveryPause) {
  FakeClock clock;
  RecordingSink sink;
  ReplayOptions options;
  options.speed = 10;
  replay(source(twoSecondJob()), options, clock, sink);
  EXPECT_THAT(clock.sleeps, ElementsAre(10 * kMs, 50 * kMs, 50 * kMs, 90 * kMs));
  EXPECT_EQ(sink.order, "a\nb\nc\nd\n");
}

TEST(Replay, MaxIdleCutsALongPause) {
  FakeClock clock;
  RecordingSink sink;
  ReplayOptions options;
  options.maxIdleSeconds = 0.1;
  std::vector<OutputEvent> events = {{Stream::stdout_, 10 * kMs, "before\n"},
                                     {Stream::stdout_, 3010 * kMs, "after a 3 s pause\n"},
                                     {Stream::stdout_, 3060 * kMs, "soon after\n"}};
  replay(source(events), options, clock, sink);
  EXPECT_THAT(clock.sleeps, ElementsAre(10 * kMs, 100 * kMs, 50 * kMs));
  EXPECT_EQ(sink.out, "before\nafter a 3 s pause\nsoon after\n");
}

TEST(Replay, MaxIdleAppliesBeforeTheSpeedUp) {
  ReplayOptions options;
  options.speed = 2;
  options.maxIdleSeconds = 1;
  ReplaySchedule schedule(options);
  EXPECT_EQ(schedule.dueNs(10'000 * kMs), 500 * kMs);  // 10 s -> 1 s -> 0.5 s
  EXPECT_EQ(schedule.dueNs(10'400 * kMs), 700 * kMs);
}

TEST(Replay, DueTimesDoNotDriftWhenWritingTakesTime) {
  // Each look at the clock costs 30 ms: sleeps shrink so that chunk k is
  // still written k * 100 ms after the start, not later and later.
  FakeClock clock(0, 30 * kMs);
  RecordingSink sink;
  std::vector<OutputEvent> events;
  for (uint64_t i = 1; i <= 5; ++i) events.push_back({Stream::stdout_, i * 100 * kMs, "x"});
  replay(source(events), {}, clock, sink);
  ASSERT_EQ(clock.sleeps.size(), 5u);
  EXPECT_EQ(clock.sleeps[0], 70 * kMs);
  for (size_t i = 1; i < clock.sleeps.size(); ++i) EXPECT_EQ(clock.sleeps[i], 70 * kMs) << i;
}

TEST(Replay, ChunksClaimingAnEarlierTimeComeAtOnce) {
  FakeClock clock;
  RecordingSink sink;
  std::vector<OutputEvent> events = {{Stream::stdout_, 500 * kMs, "1"}, {Stream::stdout_, 400 * kMs, "2"},
                                     {Stream::stdout_, 600 * kMs, "3"}};
  replay(source(events), {}, clock, sink);
  EXPECT_THAT(clock.sleeps, ElementsAre(500 * kMs, 100 * kMs));
  EXPECT_EQ(sink.out, "123");
}

TEST(Replay, InvalidOptionsAreRefused) {
  auto refused = [](double speed, std::optional<double> idle) {
    ReplayOptions options;
    options.speed = speed;
    options.maxIdleSeconds = idle;
    try {
      validateReplayOptions(options);
    } catch (const jobtape::Error&) {
      return true;
    }
    return false;
  };
  EXPECT_TRUE(refused(0, std::nullopt));
  EXPECT_TRUE(refused(-1, std::nullopt));
  EXPECT_TRUE(refused(std::nan(""), std::nullopt));
  EXPECT_TRUE(refused(std::numeric_limits<double>::infinity(), std::nullopt));
  EXPECT_TRUE(refused(1, -0.5));
  EXPECT_TRUE(refused(1, std::nan("")));
  EXPECT_FALSE(refused(0.25, 0.0));
  EXPECT_FALSE(refused(100, std::nullopt));
}

TEST(Replay, SteadyClockSleepsUntilTheDeadline) {
  SteadyReplayClock clock;
  uint64_t start = clock.nowNs();
  clock.sleepUntilNs(start + 2 * kMs);
  EXPECT_GE(clock.nowNs(), start + 2 * kMs);  // a lower bound only: never a timing upper bound
}

}  // namespace
}  // namespace jobtape::recorder
