// --max-processes holds for root as for anyone: a job that forks 100
// children under a limit of 20 sees the forks refused, sandboxed and record
// only. Where root's limit cannot be enforced (no pids cgroup can be made)
// the job is refused before it runs, never run unlimited. Runs as the
// caller and again as nobody (meson registers both).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ProcessLimit : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(buildTree().empty()) << "JOBTAPE_BUILD_ROOT is set by meson";
    probe_ = buildTree() / "tests" / "security" / "limits" / "fork_probe";
    ASSERT_TRUE(fs::exists(probe_)) << probe_;
    fs::create_directories(project());
  }
  fs::path home() const { return dir_.path() / "home"; }
  fs::path project() const { return dir_.path() / "project"; }

  ProcessResult forkBomb(const std::string& limit) {
    std::vector<std::string> args = {"run", "--project", project().string(), "--max-processes", limit};
    if (!GetParam()) args.push_back("--no-sandbox");
    for (const std::string& bind : buildTreeBinds()) {
      if (GetParam()) args.push_back(bind);
    }
    args.insert(args.end(), {"--", probe_.string(), "100"});
    return runJobtapeToEnd(home(), args, {.cwd = project()});
  }

  TempDir dir_;
  fs::path probe_;
};

TEST_P(ProcessLimit, AForkBombIsHeldToTheLimit) {
  ProcessResult ran = forkBomb("20");
  if (runningAsRoot() && ran.exitStatus == 1) {
    // Only acceptable as a refusal that says why, before the job ran.
    EXPECT_THAT(ran.err, StartsWith("jobtape: error: --max-processes cannot be enforced for root here: ")) << ran.err;
    EXPECT_EQ(ran.out, "");
    GTEST_SKIP() << "no pids cgroup on this host: " << ran.err;
  }
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  unsigned forked = 0, refused = 0;
  ASSERT_EQ(std::sscanf(ran.out.c_str(), "forked %u refused %u", &forked, &refused), 2) << ran.out;
  EXPECT_LE(forked, 20u) << ran.out;
  EXPECT_GE(refused, 80u) << ran.out;
  EXPECT_EQ(forked + refused, 100u) << ran.out;
}

TEST_P(ProcessLimit, WithoutALimitTheSameJobForksFreely) {
  std::vector<std::string> args = {"run", "--project", project().string()};
  if (!GetParam()) args.push_back("--no-sandbox");
  for (const std::string& bind : buildTreeBinds()) {
    if (GetParam()) args.push_back(bind);
  }
  args.insert(args.end(), {"--", probe_.string(), "100"});
  ProcessResult ran = runJobtapeToEnd(home(), args, {.cwd = project()});
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_EQ(ran.out, "forked 100 refused 0\n");
}

TEST_P(ProcessLimit, ALimitThatIsNotANumberIsAUsageError) {
  ProcessResult ran = forkBomb("many");
  EXPECT_EQ(ran.exitStatus, 2);
  EXPECT_THAT(ran.err, StartsWith("jobtape: error: --max-processes many: not a positive whole number")) << ran.err;
}

INSTANTIATE_TEST_SUITE_P(SandboxedAndRecordOnly, ProcessLimit, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Sandboxed" : "RecordOnly"; });

}  // namespace
}  // namespace jobtape::testing
