// A real build under `jobtape run`: GoogleTest's sources (Debian's googletest
// package) configured with cmake and built with make, as root and as an
// unprivileged user.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/events/event_reader.h"
#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kSources = "/usr/src/googletest";

struct RecordedOutput {
  std::string stdoutText;
  std::string stderrText;
  bool finished = false;
  std::vector<std::string> execs;
};

RecordedOutput readRecorded(const fs::path& eventsFile) {
  RecordedOutput recorded;
  auto reader = recorder::EventReader::open(eventsFile);
  while (auto event = reader->next()) {
    switch (event->kind) {
      case recorder::Event::Kind::output:
        (event->output.stream == sandbox::Stream::stdout_ ? recorded.stdoutText : recorded.stderrText) +=
            event->output.bytes;
        break;
      case recorder::Event::Kind::exec:
        recorded.execs.push_back(event->exec.record.executable);
        break;
      case recorder::Event::Kind::jobFinished: recorded.finished = true; break;
      default: break;
    }
  }
  EXPECT_FALSE(reader->damage()) << reader->damage()->reason;
  return recorded;
}

void buildGoogleTest(const std::string& asUser) {
  if (!fs::exists(kSources / "CMakeLists.txt")) GTEST_SKIP() << kSources << " is missing (Debian's googletest)";
  TempDir dir;
  fs::path build = dir.path() / "build";
  fs::create_directory(build);
  ::chmod(build.c_str(), 0777);
  ProcessOptions options;
  options.cwd = build;
  options.asUser = asUser;
  options.timeout = std::chrono::minutes(15);
  auto result = runJobtapeToEnd(dir.path() / "home",
                           {"run", "--name", "gtest", "--", "sh", "-c",
                            "cmake -S " + kSources.string() + " -B . -DCMAKE_BUILD_TYPE=Release && make -j2"},
                           options);
  ASSERT_FALSE(result.timedOut);
  ASSERT_EQ(result.exitStatus, 0) << result.err.substr(result.err.size() > 4000 ? result.err.size() - 4000 : 0);
  EXPECT_THAT(result.out, HasSubstr("Linking CXX static library"));
  EXPECT_TRUE(fs::exists(build / "lib" / "libgtest.a")) << "the build's output did not land in the project dir";

  auto row = onlyJob(dir.path() / "home");
  EXPECT_EQ(row.status, store::JobStatus::succeeded);
  EXPECT_FALSE(row.stateKept);
  EXPECT_FALSE(fs::exists(fs::path(row.localPath) / "state")) << "a succeeded job's state was kept";
  auto recorded = readRecorded(fs::path(row.localPath) / "events.bin.zst");
  EXPECT_TRUE(recorded.finished);
  EXPECT_EQ(recorded.stdoutText, result.out) << "the events file does not hold what was shown";
  EXPECT_THAT(recorded.stdoutText, HasSubstr("Building CXX object googletest/CMakeFiles/gtest.dir/src/gtest-all.cc.o"));
  EXPECT_THAT(recorded.stdoutText, HasSubstr("Built target gtest_main"));
  if (!asUser.empty()) {
    struct stat info {};
    ASSERT_EQ(::stat((build / "lib" / "libgtest.a").c_str(), &info), 0);
    EXPECT_NE(info.st_uid, 0u) << "files made inside the sandbox must belong to the caller";
  }
}

TEST(RunRealBuildTest, BuildsGoogleTestWithCmakeAndMake) { buildGoogleTest(""); }

TEST(RunRealBuildTest, BuildsGoogleTestUnprivileged) {
  if (!runningAsRoot()) GTEST_SKIP() << "the other test already runs unprivileged";
  buildGoogleTest("nobody");
}

}  // namespace
}  // namespace jobtape::testing
