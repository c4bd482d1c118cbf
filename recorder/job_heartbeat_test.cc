#include "recorder/job_heartbeat.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "recorder/recorder_store.h"
#include "store/test_support.h"

namespace jobtape::recorder {
namespace {

using namespace std::chrono_literals;

class JobHeartbeatTest : public ::testing::Test {
 protected:
  int64_t beatOf(const std::string& id) {
    return store_.with([&](store::Store& store) { return store.job(id)->heartbeatAtMs; });
  }
  std::string runningJob() {
    return store_.with([&](store::Store& store) { return store::testing::runTestJob(store, build_, store::JobStatus::running); });
  }
  // Polls until `done`, for 10 s at most (a loaded machine is slow, never this slow).
  static bool eventually(const std::function<bool()>& done) {
    for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
      if (done()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return done();
  }

  store::testing::TempHome home_;
  LockedStore store_{store::Store::open(home_.path())};
  store::testing::BuildFixture build_ = store_.with([](store::Store& store) { return store::testing::beginTestBuild(store); });
};

TEST_F(JobHeartbeatTest, OneThreadBeatsForEveryRunningJobUntilItEnds) {
  std::string first = runningJob(), second = runningJob();
  int64_t firstBegan = beatOf(first), secondBegan = beatOf(second);
  JobHeartbeat heartbeat(store_, 10ms);
  std::optional<JobHeartbeat::Beating> firstBeating(heartbeat.keep(first));
  auto secondBeating = heartbeat.keep(second);
  ASSERT_TRUE(eventually([&] { return beatOf(first) > firstBegan && beatOf(second) > secondBegan; }));

  firstBeating.reset();
  // A beat under way when it ended may still write it; two more of the
  // other's cannot have started before.
  for (int beat = 0; beat < 2; ++beat) {
    int64_t before = beatOf(second);
    ASSERT_TRUE(eventually([&] { return beatOf(second) > before; }));
  }
  int64_t firstLast = beatOf(first);
  int64_t before = beatOf(second);
  ASSERT_TRUE(eventually([&] { return beatOf(second) > before + 20; }));
  EXPECT_EQ(beatOf(first), firstLast) << "its job ended: no more beats";
}

TEST_F(JobHeartbeatTest, StopsAtOnceWhenDestroyed) {
  auto started = std::chrono::steady_clock::now();
  {
    JobHeartbeat heartbeat(store_, std::chrono::hours(1));
    auto beating = heartbeat.keep(runningJob());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes(1)) << "it waited for its interval";
}

}  // namespace
}  // namespace jobtape::recorder
