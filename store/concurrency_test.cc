// Many recorder processes writing one store at once.
#include <gtest/gtest.h>

#include <set>

#include "store/test_support.h"

namespace jobtape::store {
namespace {

using testing::forkChild;
using testing::TempHome;
using testing::waitExit;

constexpr int kProcesses = 8;
constexpr int kJobsEach = 200;

// Children block on the pipe until the parent closes its end, so that all
// start writing at the same moment.
class StartLine {
 public:
  StartLine() {
    if (pipe(fds_) != 0) throw std::runtime_error("pipe");
  }
  ~StartLine() {
    if (fds_[0] >= 0) close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  void waitInChild() {
    close(fds_[1]);
    char c;
    while (read(fds_[0], &c, 1) < 0 && errno == EINTR) {
    }
  }
  void go() {
    close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

void recordJobs(const std::filesystem::path& home, int worker) {
  auto store = Store::open(home);
  auto build = testing::beginTestBuild(*store, "/src/worker" + std::to_string(worker));
  for (int i = 0; i < kJobsEach; ++i) {
    auto id = store->newJobId();
    JobStart start;
    start.buildId = build.buildId;
    start.buildProjectId = build.projectId;
    start.command = "job " + std::to_string(i);
    start.pid = 1000 + i;
    start.localPath = store->jobDir(id).string();
    store->beginJob(id, start);
    store->heartbeat({id});
    store->finishJob(id, JobFinish{i % 10 == 0 ? JobStatus::failed : JobStatus::succeeded, 0, {}, "exited", {}, false});
  }
  store->finishBuild(build.buildId);
}

TEST(Concurrency, EightProcessesRecordTwoHundredJobsEach) {
  TempHome home;
  { Store::open(home.path()); }  // created, then closed before forking
  StartLine start;
  std::vector<pid_t> children;
  for (int worker = 0; worker < kProcesses; ++worker) {
    children.push_back(forkChild([&, worker] {
      start.waitInChild();
      recordJobs(home.path(), worker);
    }));
  }
  start.go();
  for (pid_t child : children) EXPECT_EQ(waitExit(child), 0) << "5 means SQLITE_BUSY reached the caller";

  auto store = Store::open(home.path());
  auto all = store->jobs(JobFilter{{}, {}, {}, 0});
  ASSERT_EQ(all.size(), static_cast<size_t>(kProcesses * kJobsEach));
  std::set<std::string> unique;
  for (const auto& job : all) unique.insert(job.id);
  EXPECT_EQ(unique.size(), all.size());
  EXPECT_EQ(store->jobs(JobFilter{JobStatus::failed, {}, {}, 0}).size(), static_cast<size_t>(kProcesses * 20));
  auto builds = store->builds(0);
  ASSERT_EQ(builds.size(), static_cast<size_t>(kProcesses));
  for (const auto& build : builds) {
    EXPECT_EQ(build.result, "failed");
    EXPECT_EQ(store->jobsOfBuild(build.id).size(), static_cast<size_t>(kJobsEach));
  }
}

TEST(Concurrency, ProcessesOpeningANewStoreTogetherMigrateItOnce) {
  TempHome home;
  StartLine start;
  std::vector<pid_t> children;
  for (int worker = 0; worker < kProcesses; ++worker) {
    children.push_back(forkChild([&, worker] {
      start.waitInChild();
      auto store = Store::open(home.path());
      testing::runTestJob(*store, testing::beginTestBuild(*store), JobStatus::succeeded, "w" + std::to_string(worker));
    }));
  }
  start.go();
  for (pid_t child : children) EXPECT_EQ(waitExit(child), 0);
  auto store = Store::open(home.path());
  EXPECT_EQ(store->jobs(JobFilter{{}, {}, {}, 0}).size(), static_cast<size_t>(kProcesses));
}

}  // namespace
}  // namespace jobtape::store
