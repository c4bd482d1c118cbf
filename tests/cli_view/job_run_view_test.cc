// End to end: jobs recorded by a real `jobtape run`, looked at with
// `job list/show/logs/replay`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>  // boost 1.74 asio misses it under C++20

#include <boost/process.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "recorder/inspect/json_testing.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace bp = boost::process;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Polls rather than child::wait_for, which Boost 1.74 gets wrong at times.
bool exitsWithin(bp::child& child, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (child.running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      child.terminate();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class RunViewTest : public ::testing::Test {
 protected:
  ProcessResult jobtape(const std::vector<std::string>& args) {
    ProcessOptions options;
    options.cwd = project_.path();
    return ::jobtape::testing::runJobtape(home_.path(), args, options);
  }
  TempHome home_;
  TempDir project_;
};

TEST_F(RunViewTest, ARecordedJobCanBeListedShownLoggedAndReplayed) {
  // Pauses keep stdout and stderr (two pipes) in a known order.
  ProcessResult run = jobtape({"run", "--", "sh", "-c",
                               "echo out1; sleep 0.2; echo err1 >&2; sleep 0.2; echo out2; exit 3"});
  ASSERT_EQ(run.exitStatus, 3) << run.err;

  ProcessResult logs = jobtape({"job", "logs"});
  EXPECT_EQ(logs.exitStatus, 0) << logs.err;
  EXPECT_EQ(logs.out, "out1\nerr1\nout2\n");
  EXPECT_EQ(logs.err, "");
  EXPECT_EQ(jobtape({"job", "logs", "--stderr"}).out, "err1\n");
  EXPECT_EQ(jobtape({"job", "logs", "--tail", "1"}).out, "out2\n");

  ProcessResult show = jobtape({"job", "show", "--processes"});
  EXPECT_EQ(show.exitStatus, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("status     failed\n"));
  EXPECT_THAT(show.out, HasSubstr("outcome    exited with status 3\n"));
  EXPECT_THAT(show.out, HasSubstr("(from the store)"));
  EXPECT_THAT(show.out, HasSubstr("command    sh -c 'echo out1;"));
  EXPECT_THAT(show.out, HasSubstr("project    " + project_.path().string() + "\n"));
  EXPECT_THAT(show.out, HasSubstr("sleep 0.2\n"));  // an exec'd child in the process tree

  ProcessResult list = jobtape({"job", "list"});
  EXPECT_EQ(list.exitStatus, 0) << list.err;
  EXPECT_THAT(list.out, MatchesRegex("ID +STATUS +PROJECT +COMMAND +STARTED +DURATION\n"
                                     "[0-9A-Z]{8,} +failed +.*sh -c 'echo out1;.* just now +[0-9.]+m?s\n"));

  // "." is the project directory the job was run in.
  EXPECT_THAT(jobtape({"job", "list", "--project", "."}).out, HasSubstr("failed"));
  EXPECT_EQ(jobtape({"job", "list", "--project", "/elsewhere"}).out, "no jobs match\n");

  ProcessResult replay = jobtape({"job", "replay", "--speed", "10"});
  EXPECT_EQ(replay.exitStatus, 0) << replay.err;
  EXPECT_EQ(replay.out, "out1\nout2\n");
  EXPECT_EQ(replay.err, "err1\n");
}

// The hint line's id, e.g. "jobtape: job 01JD4X7QAB3K failed (exit 1); ...".
std::string hintId(const std::string& err) {
  std::smatch match;
  std::regex hint("jobtape: job ([0-9A-Z]+) failed");
  return std::regex_search(err, match, hint) ? match[1].str() : "";
}

TEST_F(RunViewTest, EveryPrintedIdStaysAnUnambiguousSelectorAsJobsArrive) {
  std::vector<std::string> printed;
  for (int i = 0; i < 6; ++i) {
    ProcessResult run = jobtape({"run", "--quiet", "--", "sh", "-c", "exit " + std::to_string(i + 1)});
    ASSERT_EQ(run.exitStatus, i + 1) << run.err;
    printed.push_back(hintId(run.err));
    ASSERT_GE(printed.back().size(), 12u) << run.err;
  }
  // Later jobs (same second, same build tree) never make an earlier id ambiguous.
  for (size_t i = 0; i < printed.size(); ++i) {
    ProcessResult show = jobtape({"job", "show", printed[i], "--json"});
    ASSERT_EQ(show.exitStatus, 0) << printed[i] << ": " << show.err;
    EXPECT_TRUE(std::regex_search(show.out, std::regex("\"exit_?[cC]ode\": " + std::to_string(i + 1) + "\\b")))
        << show.out;
  }
  // A build and its job never print the same short id.
  ProcessResult builds = jobtape({"build", "list"});
  ASSERT_EQ(builds.exitStatus, 0) << builds.err;
  for (const std::string& id : printed) EXPECT_THAT(builds.out, ::testing::Not(HasSubstr(id))) << builds.out;
}

TEST_F(RunViewTest, AnUnprivilegedUserRecordsAndReadsTheirOwnJobs) {
  if (!runningAsRoot()) GTEST_SKIP() << "already unprivileged: the test above covers it";
  ProcessOptions options;
  options.cwd = project_.path();
  options.asUser = "nobody";
  // A store of their own (jobtape refuses one that is not the caller's),
  // outside the project the job may write.
  TempHome nobodyHome;
  const std::filesystem::path& home = nobodyHome.path();
  ProcessResult run = ::jobtape::testing::runJobtape(home, {"run", "--quiet", "--", "sh", "-c", "id -u; exit 5"}, options);
  ASSERT_EQ(run.exitStatus, 5) << run.err;
  ProcessResult logs = ::jobtape::testing::runJobtape(home, {"job", "logs"}, options);
  EXPECT_EQ(logs.exitStatus, 0) << logs.err;
  EXPECT_EQ(logs.out, "65534\n");
  ProcessResult show = ::jobtape::testing::runJobtape(home, {"job", "show"}, options);
  EXPECT_THAT(show.out, HasSubstr("outcome    exited with status 5\n"));
}

TEST_F(RunViewTest, FollowPrintsARunningJobsLinesAsTheyCome) {
  // The job prints its second line only once the test has seen the first.
  fs::path go = project_.path() / "go";
  bp::child run(jobtapeBinary().string(),
                bp::args({"--home", home_.path().string(), "run", "--quiet", "--", "sh", "-c",
                          "echo first; while [ ! -e " + go.string() + " ]; do sleep 0.05; done; echo second"}),
                bp::start_dir(project_.path().string()), bp::std_out > bp::null, bp::std_err > bp::null,
                bp::std_in < bp::null);

  // Wait (generously) until the job is recorded as running.
  bool running = false;
  for (int attempt = 0; attempt < 600 && !running; ++attempt) {
    ProcessResult list = jobtape({"job", "list", "--status", "running", "--json"});
    running = list.out.find("\"running\"") != std::string::npos;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(running);

  bp::ipstream out;
  bp::child follow(jobtapeBinary().string(),
                   bp::args({"--home", home_.path().string(), "job", "logs", "--follow", "last"}),
                   bp::std_out > out, bp::std_err > bp::null, bp::std_in < bp::null);
  auto readLine = [&out, &follow]() {
    auto line = std::async(std::launch::async, [&out] {
      std::string text;
      std::getline(out, text);
      return text;
    });
    if (line.wait_for(std::chrono::seconds(60)) == std::future_status::ready) return line.get();
    follow.terminate();  // unblocks the reader
    return std::string("(nothing came)");
  };
  EXPECT_EQ(readLine(), "first");
  { std::ofstream(go) << "go\n"; }
  EXPECT_EQ(readLine(), "second");

  EXPECT_TRUE(exitsWithin(follow, std::chrono::seconds(60))) << "follow did not return after the job ended";
  EXPECT_EQ(follow.exit_code(), 0);
  run.wait();
  EXPECT_EQ(run.exit_code(), 0);
}

}  // namespace
}  // namespace jobtape::testing
