#include "recorder/inspect/build_overview.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/inspect/actions_test_store.h"

namespace jobtape::recorder {
namespace {

using ::testing::ElementsAre;

TEST(BuildOverview, CountsJobsAndLoadsProjects) {
  testing::RecordingStore s;
  auto build = s.beginBuild();
  auto project = s.addProject(build, "/src/app");
  s.finishJob(s.beginJob(build, project), true);
  s.finishJob(s.beginJob(build, project), true);
  s.finishJob(s.beginJob(build, project), false);
  s.beginJob(build, project);  // still running
  auto node = loadBuildTree(s.store(), *s.store().build(build));
  EXPECT_EQ(node.jobs.total, 4);
  EXPECT_EQ(node.jobs.succeeded, 2);
  EXPECT_EQ(node.jobs.failed, 1);
  EXPECT_EQ(node.jobs.running, 1);
  ASSERT_EQ(node.projects.size(), 1u);
  EXPECT_EQ(node.projects[0].localProjectPath, "/src/app");
  EXPECT_FALSE(node.durationMs);  // not finished
  EXPECT_EQ(buildResultName(node.build), "running");
}

TEST(BuildOverview, NestedBuildsFormATreeAndStayOutOfTheTopLevel) {
  testing::RecordingStore s;
  auto top = s.beginBuild();
  auto project = s.addProject(top, "/src/app");
  auto outerJob = s.beginJob(top, project);
  auto child = s.beginBuild(outerJob, "inner make");
  auto childJob = s.beginJob(child, s.addProject(child, "/src/lib"));
  auto grandchild = s.beginBuild(childJob, "innermost");
  s.finishJob(s.beginJob(grandchild, s.addProject(grandchild, "/src/lib/sub")), false);
  s.store().finishBuild(grandchild);
  s.finishJob(childJob, true);
  s.store().finishBuild(child);
  s.finishJob(outerJob, true);
  s.store().finishBuild(top);

  auto recent = loadRecentBuilds(s.store(), 10);
  ASSERT_EQ(recent.size(), 1u) << "nested builds appear under their parent only";
  const auto& node = recent[0];
  EXPECT_EQ(node.build.id, top);
  EXPECT_EQ(buildResultName(node.build), "failed") << "a failure deep down fails the top build";
  ASSERT_EQ(node.nested.size(), 1u);
  EXPECT_EQ(node.nested[0].build.id, child);
  ASSERT_EQ(node.nested[0].nested.size(), 1u);
  EXPECT_EQ(node.nested[0].nested[0].build.id, grandchild);
  EXPECT_EQ(node.nested[0].nested[0].jobs.failed, 1);
  EXPECT_TRUE(node.durationMs);
}

TEST(BuildOverview, DepthLimitCutsTheTree) {
  testing::RecordingStore s;
  auto top = s.beginBuild();
  auto job = s.beginJob(top, s.addProject(top, "/a"));
  auto child = s.beginBuild(job);
  s.beginJob(child, s.addProject(child, "/b"));
  auto node = loadBuildTree(s.store(), *s.store().build(top), 0);
  EXPECT_TRUE(node.nested.empty());
  EXPECT_TRUE(node.truncated);
}

TEST(BuildOverview, RecentBuildsAreMostRecentFirstAndLimited) {
  testing::RecordingStore s;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(s.buildWithOneJob("/src/app", i % 2 == 0));
  auto recent = loadRecentBuilds(s.store(), 3);
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[0].build.id, ids[4]);
  EXPECT_EQ(recent[1].build.id, ids[3]);
  EXPECT_EQ(recent[2].build.id, ids[2]);
  EXPECT_EQ(loadRecentBuilds(s.store(), 0).size(), 5u);
}

TEST(BuildIdAbbreviator, ShortestUniquePrefixWithAMinimum) {
  BuildIdAbbreviator abbreviate({"01JD4X7QAB11", "01JD4X7QAB22", "01JD4X9Z0000", "01JE000000000"}, 8);
  EXPECT_EQ(abbreviate("01JD4X7QAB11"), "01JD4X7QAB1");
  EXPECT_EQ(abbreviate("01JD4X7QAB22"), "01JD4X7QAB2");
  EXPECT_EQ(abbreviate("01JD4X9Z0000"), "01JD4X9Z");
  EXPECT_EQ(abbreviate("01JE000000000"), "01JE0000");
  EXPECT_EQ(abbreviate("01JD4X7QAB1"), "01JD4X7QAB1");  // not in the list: still unambiguous length
}

}  // namespace
}  // namespace jobtape::recorder
