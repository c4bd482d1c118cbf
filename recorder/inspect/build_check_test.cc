#include "recorder/inspect/build_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "recorder/inspect/actions_test_store.h"

namespace jobtape::recorder {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(BuildCheck, LockedWhenTheLastNAllFailed) {
  testing::RecordingStore s;
  s.buildWithOneJob("/src/app", true);
  s.buildWithOneJob("/src/app", false);
  s.buildWithOneJob("/src/app", false);
  auto check = checkRecentFailures(s.store(), 2, std::nullopt);
  EXPECT_TRUE(check.locked());
  EXPECT_THAT(check.verdict(), StartsWith("the last 2 builds all failed"));
  EXPECT_FALSE(checkRecentFailures(s.store(), 3, std::nullopt).locked());
  EXPECT_THAT(checkRecentFailures(s.store(), 3, std::nullopt).verdict(), StartsWith("ok:"));
}

TEST(BuildCheck, FewerBuildsThanAskedIsNotLocked) {
  testing::RecordingStore s;
  s.buildWithOneJob("/src/app", false);
  auto check = checkRecentFailures(s.store(), 2, std::nullopt);
  EXPECT_FALSE(check.locked());
  EXPECT_THAT(check.verdict(), HasSubstr("fewer than 2"));
}

TEST(BuildCheck, RunningBuildsDoNotCount) {
  testing::RecordingStore s;
  s.buildWithOneJob("/src/app", false);
  auto running = s.beginBuild();
  s.beginJob(running, s.addProject(running, "/src/app"));
  EXPECT_TRUE(checkRecentFailures(s.store(), 1, std::nullopt).locked());
}

TEST(BuildCheck, ProjectFilterLooksOnlyAtThatProject) {
  testing::RecordingStore s;
  s.buildWithOneJob("/src/app", false);
  s.buildWithOneJob("/src/app", false);
  s.buildWithOneJob("/src/other", true);
  EXPECT_FALSE(checkRecentFailures(s.store(), 2, std::nullopt).locked());
  auto check = checkRecentFailures(s.store(), 2, std::string("/src/app"));
  EXPECT_TRUE(check.locked());
  EXPECT_THAT(check.verdict(), HasSubstr("of /src/app"));
  EXPECT_FALSE(checkRecentFailures(s.store(), 1, std::string("/src/other")).locked());
  EXPECT_TRUE(checkRecentFailures(s.store(), 1, std::string("/src/app/")).locked()) << "same directory";
}

TEST(BuildCheck, NestedBuildsCountOnlyForTheirProject) {
  testing::RecordingStore s;
  auto top = s.beginBuild();
  auto job = s.beginJob(top, s.addProject(top, "/src/app"));
  auto child = s.beginBuild(job);
  s.finishJob(s.beginJob(child, s.addProject(child, "/src/lib")), false);
  s.store().finishBuild(child);
  s.finishJob(job, true);
  s.store().finishBuild(top);  // failed through its child
  auto all = checkRecentFailures(s.store(), 1, std::nullopt);
  ASSERT_EQ(all.considered.size(), 1u);
  EXPECT_EQ(all.considered[0].id, top);
  auto lib = checkRecentFailures(s.store(), 1, std::string("/src/lib"));
  ASSERT_EQ(lib.considered.size(), 1u);
  EXPECT_EQ(lib.considered[0].id, child);
}

TEST(BuildCheck, RefusesLessThanOne) {
  testing::RecordingStore s;
  EXPECT_THROW(checkRecentFailures(s.store(), 0, std::nullopt), std::invalid_argument);
}

TEST(ProjectMatches, RegistryNameOrPath) {
  store::ProjectRow row;
  row.registryProjectName = "zlib";
  EXPECT_TRUE(projectMatches(row, "zlib"));
  EXPECT_FALSE(projectMatches(row, "zli"));
  EXPECT_FALSE(projectMatches(row, ""));
}

}  // namespace
}  // namespace jobtape::recorder
