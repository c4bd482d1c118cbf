// A build's life cycle through the Store interface, and the queries.
#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "store/test_support.h"
#include "store/ulid.h"

namespace jobtape::store {
namespace {

using testing::beginTestBuild;
using testing::runTestJob;
using testing::TempHome;

std::vector<std::string> ids(const std::vector<JobRow>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row.id);
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  TempHome home;
  testing::ManualClock clock;
  std::unique_ptr<SqliteStore> store = openSqliteStore(home.path(), StoreOptions{clock.function(), nullptr});
};

TEST_F(StoreTest, JobRowRoundTripsEveryField) {
  auto build = beginTestBuild(*store, "/src/app");
  std::string id = store->newJobId();
  JobStart start{build.buildId, build.projectId, std::string(64, 'c'), "{\"argv\":[\"cc\"]}", "cc -c a.c", "compile a",
                 0, getpid(), store->jobDir(id).string()};
  store->beginJob(id, start);
  clock.advance(5);
  store->setJobPid(id, 31337);
  auto running = store->job(id);
  ASSERT_TRUE(running);
  EXPECT_EQ(running->status, JobStatus::running);
  EXPECT_EQ(running->pid, 31337);
  EXPECT_EQ(running->recorderPid, getpid());
  EXPECT_EQ(running->startedAtMs, *clock.now - 5);
  EXPECT_FALSE(running->stoppedAtMs);

  clock.advance(1500);
  store->finishJob(id, JobFinish{JobStatus::failed, std::nullopt, 9, "signaled", {std::chrono::nanoseconds(11), std::chrono::nanoseconds(22), 33}, true});
  auto row = store->job(id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->buildId, build.buildId);
  EXPECT_EQ(row->buildProjectId, build.projectId);
  EXPECT_EQ(row->projectPath, "/src/app");
  EXPECT_EQ(row->status, JobStatus::failed);
  EXPECT_EQ(row->stoppedAtMs, *clock.now);
  EXPECT_EQ(row->exitCode, std::nullopt);
  EXPECT_EQ(row->signal, 9);
  EXPECT_EQ(row->outcome, "signaled");
  EXPECT_EQ(row->recipeHash, std::string(64, 'c'));
  EXPECT_EQ(row->recipeMeta, "{\"argv\":[\"cc\"]}");
  EXPECT_EQ(row->command, "cc -c a.c");
  EXPECT_EQ(row->name, "compile a");
  EXPECT_EQ(row->localPath, store->jobDir(id).string());
  EXPECT_EQ(row->rusage.userCpu, std::chrono::nanoseconds(11));
  EXPECT_EQ(row->rusage.systemCpu, std::chrono::nanoseconds(22));
  EXPECT_EQ(row->rusage.maxRssBytes, 33u);
  EXPECT_TRUE(row->stateKept);
  EXPECT_EQ(store->job(id.substr(0, 10)), std::nullopt) << "job() wants the whole id";
}

TEST_F(StoreTest, BuildSucceedsWhenEveryJobSucceeded) {
  auto build = beginTestBuild(*store);
  runTestJob(*store, build, JobStatus::succeeded);
  runTestJob(*store, build, JobStatus::succeeded);
  EXPECT_EQ(store->finishBuild(build.buildId), "succeeded");
  auto row = store->build(build.buildId);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->result, "succeeded");
  EXPECT_EQ(row->commandLine, "make all");
  EXPECT_EQ(row->host, "testhost");
  EXPECT_TRUE(row->stoppedAtMs);
}

TEST_F(StoreTest, OneFailedJobFailsTheBuild) {
  auto build = beginTestBuild(*store);
  runTestJob(*store, build, JobStatus::succeeded);
  runTestJob(*store, build, JobStatus::failed);
  EXPECT_EQ(store->finishBuild(build.buildId), "failed");
}

TEST_F(StoreTest, JobFailingAfterItsBuildFinishedFailsTheBuild) {
  auto build = beginTestBuild(*store);
  auto late = runTestJob(*store, build, JobStatus::running);
  EXPECT_EQ(store->finishBuild(build.buildId), "succeeded");
  store->finishJob(late, JobFinish{JobStatus::failed, 2, std::nullopt, "exited", {}, false});
  EXPECT_EQ(store->build(build.buildId)->result, "failed");
}

TEST_F(StoreTest, FailedChildBuildFailsItsRunningParent) {
  auto parent = beginTestBuild(*store);
  auto parentJob = runTestJob(*store, parent, JobStatus::running, "make -C sub");
  auto child = beginTestBuild(*store, "/src/app/sub", parentJob);
  runTestJob(*store, child, JobStatus::failed);
  EXPECT_EQ(store->finishBuild(child.buildId), "failed");
  // The parent's own job succeeded (the nested tool may ignore failures).
  store->finishJob(parentJob, JobFinish{JobStatus::succeeded, 0, std::nullopt, "exited", {}, false});
  EXPECT_EQ(store->finishBuild(parent.buildId), "failed");
  EXPECT_THAT(store->childBuilds(parent.buildId), ::testing::SizeIs(1));
  EXPECT_EQ(store->childBuilds(parent.buildId)[0].id, child.buildId);
  EXPECT_EQ(store->childBuilds(parent.buildId)[0].parentJobId, parentJob);
}

TEST_F(StoreTest, ChildFailingAfterTheParentFinishedReachesEveryAncestor) {
  auto grandparent = beginTestBuild(*store);
  auto grandparentJob = runTestJob(*store, grandparent, JobStatus::running);
  auto parent = beginTestBuild(*store, "/p", grandparentJob);
  auto parentJob = runTestJob(*store, parent, JobStatus::running);
  auto child = beginTestBuild(*store, "/c", parentJob);
  auto childJob = runTestJob(*store, child, JobStatus::running);
  // Outer builds finish first (e.g. they were detached), all looking fine.
  store->finishJob(parentJob, JobFinish{JobStatus::succeeded, 0, {}, "exited", {}, false});
  store->finishJob(grandparentJob, JobFinish{JobStatus::succeeded, 0, {}, "exited", {}, false});
  EXPECT_EQ(store->finishBuild(parent.buildId), "succeeded");
  EXPECT_EQ(store->finishBuild(grandparent.buildId), "succeeded");
  store->finishJob(childJob, JobFinish{JobStatus::failed, 1, {}, "exited", {}, false});
  EXPECT_EQ(store->finishBuild(child.buildId), "failed");
  EXPECT_EQ(store->build(parent.buildId)->result, "failed");
  EXPECT_EQ(store->build(grandparent.buildId)->result, "failed");
}

TEST_F(StoreTest, SucceededChildLeavesTheParentAlone) {
  auto parent = beginTestBuild(*store);
  auto parentJob = runTestJob(*store, parent, JobStatus::succeeded);
  auto child = beginTestBuild(*store, "/c", parentJob);
  runTestJob(*store, child, JobStatus::succeeded);
  EXPECT_EQ(store->finishBuild(child.buildId), "succeeded");
  EXPECT_EQ(store->finishBuild(parent.buildId), "succeeded");
}

TEST_F(StoreTest, ParentJobInAnotherStoreIsAccepted) {
  auto child = beginTestBuild(*store, "/c", std::string("01ARYZ6S41TSV4RRFFQ69G5FAV"));
  runTestJob(*store, child, JobStatus::failed);
  EXPECT_EQ(store->finishBuild(child.buildId), "failed");
}

TEST_F(StoreTest, ListsFilterByStatusProjectAndBuild) {
  auto appBuild = beginTestBuild(*store, "/src/app");
  auto a1 = runTestJob(*store, appBuild, JobStatus::succeeded);
  auto a2 = runTestJob(*store, appBuild, JobStatus::failed);
  auto a3 = runTestJob(*store, appBuild, JobStatus::running);
  auto libBuild = store->beginBuild(BuildStart{"fetch", "/", "h", {}, {}});
  auto libProject = store->addProject(libBuild, ProjectSpec{"h2", "", "registry/lib"});
  auto l1 = runTestJob(*store, {libBuild, libProject}, JobStatus::failed);

  EXPECT_EQ(ids(store->jobs(JobFilter{})), (std::vector<std::string>{l1, a3, a2, a1}));
  EXPECT_EQ(ids(store->jobs(JobFilter{JobStatus::failed, {}, {}, 20})), (std::vector<std::string>{l1, a2}));
  EXPECT_EQ(ids(store->jobs(JobFilter{JobStatus::running, {}, {}, 20})), (std::vector<std::string>{a3}));
  EXPECT_EQ(ids(store->jobs(JobFilter{{}, "/src/app", {}, 20})), (std::vector<std::string>{a3, a2, a1}));
  EXPECT_EQ(ids(store->jobs(JobFilter{{}, "registry/lib", {}, 20})), (std::vector<std::string>{l1}));
  EXPECT_EQ(store->jobs(JobFilter{{}, "registry/lib", {}, 20})[0].projectPath, "registry/lib");
  EXPECT_EQ(ids(store->jobs(JobFilter{JobStatus::failed, "/src/app", appBuild.buildId, 20})),
            (std::vector<std::string>{a2}));
  EXPECT_EQ(ids(store->jobs(JobFilter{{}, {}, {}, 2})), (std::vector<std::string>{l1, a3}));
  EXPECT_EQ(ids(store->jobsOfBuild(appBuild.buildId)), (std::vector<std::string>{a1, a2, a3}));
  EXPECT_THAT(store->jobs(JobFilter{{}, "/nowhere", {}, 20}), ::testing::IsEmpty());
}

TEST_F(StoreTest, BuildsAndProjectsList) {
  auto first = beginTestBuild(*store);
  auto second = store->beginBuild(BuildStart{"b2", "/", "h", {}, first.buildId});
  store->addProject(second, ProjectSpec{"x", "/x", ""});
  store->addProject(second, ProjectSpec{"y", "", "reg/y"});
  auto builds = store->builds(10);
  ASSERT_EQ(builds.size(), 2u);
  EXPECT_EQ(builds[0].id, second);
  EXPECT_EQ(builds[0].retryOf, first.buildId);
  EXPECT_EQ(store->builds(1).size(), 1u);
  auto projects = store->projects(second);
  ASSERT_EQ(projects.size(), 2u);
  EXPECT_EQ(projects[0].localProjectPath, "/x");
  EXPECT_EQ(projects[1].registryProjectName, "reg/y");
  EXPECT_EQ(projects[1].buildId, second);
}

TEST_F(StoreTest, JobsAndBuildsStartedSinceATime) {
  auto early = beginTestBuild(*store);
  auto e1 = runTestJob(*store, early, JobStatus::succeeded);
  clock.advance(60'000);
  const int64_t since = *clock.now;
  auto late = beginTestBuild(*store);
  auto l1 = runTestJob(*store, late, JobStatus::failed);
  clock.advance(1);
  auto l2 = runTestJob(*store, early, JobStatus::succeeded);  // a later job of the earlier build

  JobFilter filter;
  filter.limit = 0;
  filter.startedSinceMs = since;
  EXPECT_EQ(ids(store->jobs(filter)), (std::vector<std::string>{l2, l1}));
  filter.startedSinceMs = since + 1;
  EXPECT_EQ(ids(store->jobs(filter)), (std::vector<std::string>{l2}));
  filter.startedSinceMs = 0;
  EXPECT_EQ(ids(store->jobs(filter)), (std::vector<std::string>{l2, l1, e1}));

  auto builds = store->buildsStartedSince(since);
  ASSERT_EQ(builds.size(), 1u);
  EXPECT_EQ(builds[0].id, late.buildId);
  EXPECT_EQ(store->buildsStartedSince(0).size(), 2u);
  EXPECT_TRUE(store->buildsStartedSince(since + 60'000).empty());
}

TEST_F(StoreTest, ShortestUniquePrefixLooksAtBothNeighbours) {
  auto build = beginTestBuild(*store);
  std::string a = "01JD4ABCDEFGH0000000000000";
  std::string b = "01JD4ABCDEFGH1000000000000";  // shares 13 with a
  std::string c = "01JD4ABCDZ0000000000000000";  // shares 9 with b
  std::string lone = "01KZZZZZZZZZZZZZZZZZZZZZZZ";
  for (const auto& id : {a, b, c, lone}) runTestJob(*store, build, JobStatus::succeeded, "x", 1, "aa", id);
  EXPECT_EQ(store->shortestUniquePrefix(a), a.substr(0, 14));
  EXPECT_EQ(store->shortestUniquePrefix(b), b.substr(0, 14));
  EXPECT_EQ(store->shortestUniquePrefix(c), c.substr(0, kShortIdLength));
  EXPECT_EQ(store->shortestUniquePrefix(lone), lone.substr(0, kShortIdLength));
  EXPECT_EQ(store->shortestUniquePrefix(lone, 4), lone.substr(0, 4));
  EXPECT_EQ(store->shortestUniquePrefix(lone, 40), lone);
  EXPECT_EQ(store->shortestUniquePrefix("01jd4abcdz0000000000000000"), c.substr(0, kShortIdLength));
}

TEST_F(StoreTest, DeleteJobRemovesRowAndDirectory) {
  auto build = beginTestBuild(*store);
  auto done = runTestJob(*store, build, JobStatus::failed);
  auto running = runTestJob(*store, build, JobStatus::running);
  std::filesystem::create_directories(store->jobDir(done) / "state");
  testing::writeFile(store->jobDir(done) / "events.bin.zst", "x");
  store->deleteJob(done);
  EXPECT_EQ(store->job(done), std::nullopt);
  EXPECT_FALSE(std::filesystem::exists(store->jobDir(done)));
  EXPECT_THROW(store->deleteJob(running), std::invalid_argument);
  EXPECT_TRUE(store->job(running));
  store->deleteJob(done);  // gone already: nothing to do
}

TEST_F(StoreTest, RejectsMalformedCalls) {
  auto build = beginTestBuild(*store);
  JobStart start;
  start.buildId = build.buildId;
  EXPECT_THROW(store->beginJob("not-a-ulid", start), std::invalid_argument);
  EXPECT_THROW(store->finishJob(store->newJobId(), JobFinish{}), std::invalid_argument);
  EXPECT_THROW(store->finishBuild("01ARYZ6S41TSV4RRFFQ69G5FAV"), std::invalid_argument);
  auto id = runTestJob(*store, build, JobStatus::running);
  EXPECT_THROW(store->finishJob(id, JobFinish{JobStatus::running, {}, {}, "", {}, false}), std::invalid_argument);
}

TEST(StoreThreads, ConcurrentThreadsShareOneStore) {
  TempHome home;
  auto store = Store::open(home.path());
  auto build = beginTestBuild(*store);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto id = runTestJob(*store, build, JobStatus::running);
        store->heartbeat({id});
        store->finishJob(id, JobFinish{JobStatus::succeeded, 0, {}, "exited", {}, false});
        store->job(id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store->jobsOfBuild(build.buildId).size(), 200u);
  EXPECT_EQ(store->finishBuild(build.buildId), "succeeded");
}

}  // namespace
}  // namespace jobtape::store
