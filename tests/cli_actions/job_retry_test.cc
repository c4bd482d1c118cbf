// `jobtape job retry [SEL]`: the recorded recipe again, as a new build that
// says which build it retries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli_actions/actions_fixture.h"

namespace jobtape::testing {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class JobRetry : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { home_ = std::make_unique<ActionsHome>(GetParam()); }
  std::unique_ptr<ActionsHome> home_;
};

TEST_P(JobRetry, RunsTheSameRecipeAsANewBuildLinkedToTheOld) {
  auto first = home_->record("echo out; echo err >&2; test -e retry-ok");
  ASSERT_EQ(first.exitStatus, 1) << first.err;

  auto retried = home_->jobtape({"job", "retry"});
  EXPECT_EQ(retried.exitStatus, 1);
  EXPECT_EQ(retried.out, "out\n") << "live output on stdout";
  auto errLines = lines(retried.err);
  ASSERT_FALSE(errLines.empty());
  EXPECT_THAT(errLines.back(), StartsWith("jobtape: job "));
  EXPECT_THAT(errLines.back(), HasSubstr("failed (exit 1); see: jobtape --home "));
  EXPECT_THAT(retried.err, HasSubstr("err\n"));

  // Now the project has what the job checks for: the retry succeeds.
  ASSERT_EQ(home_->jobtape({"run", "--project", home_->project().string(), "--", "touch", "retry-ok"}).exitStatus, 0);
  auto second = home_->jobtape({"job", "retry", "-2"});  // the first job again
  EXPECT_EQ(second.exitStatus, 0) << second.err;
  EXPECT_THAT(second.err, ::testing::Not(HasSubstr("failed")));

  auto store = home_->openStore();
  store::JobFilter all;
  all.limit = 0;
  auto jobs = store->jobs(all);  // most recent first
  ASSERT_EQ(jobs.size(), 4u);
  const auto& original = jobs[3];
  for (size_t retry : {2u, 0u}) {
    EXPECT_EQ(jobs[retry].recipeHash, original.recipeHash);
    EXPECT_NE(jobs[retry].buildId, original.buildId);
    auto build = store->build(jobs[retry].buildId);
    ASSERT_TRUE(build);
    EXPECT_EQ(build->retryOf, original.buildId);
  }
  EXPECT_EQ(jobs[2].status, store::JobStatus::failed);
  EXPECT_EQ(jobs[0].status, store::JobStatus::succeeded);
  EXPECT_EQ(store->build(jobs[0].buildId)->result, "succeeded");
}

TEST_P(JobRetry, ExitStatusFollowsASignal) {
  ASSERT_EQ(home_->record("kill -TERM $$").exitStatus, 128 + 15);
  auto retried = home_->jobtape({"job", "retry"});
  EXPECT_EQ(retried.exitStatus, 128 + 15);
  EXPECT_THAT(lines(retried.err).back(), HasSubstr("killed by SIGTERM"));
}

INSTANTIATE_TEST_SUITE_P(Users, JobRetry, ::testing::ValuesIn(usersToTest()),
                         [](const auto& info) { return userLabel(info.param); });

TEST(JobRetryErrors, NoSuchJobIsOneLine) {
  ActionsHome home;
  ASSERT_EQ(home.record("true").exitStatus, 0);
  auto result = home.jobtape({"job", "retry", "job:ZZZZZZZZ"});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
  EXPECT_EQ(result.out, "");
}

TEST(JobRetryErrors, ExtraArgumentsAreUsageErrors) {
  ActionsHome home;
  auto result = home.jobtape({"job", "retry", "a", "b"});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
}

}  // namespace
}  // namespace jobtape::testing
