// `jobtape job logs` and `jobtape job replay` on recorded jobs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>  // boost 1.74 asio misses it under C++20

#include <boost/process.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include "recorder/inspect/json_testing.h"
#include "tests/cli_view/view_history.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

using ::jobtape::testing::runJobtape;
using ::jobtape::testing::runProgram;

namespace bp = boost::process;
namespace fs = std::filesystem;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

const std::vector<Step> kInterleaved = {out(10, "out 1\n"), err(20, "err 1\n"), out(30, "out 2\nout 3\n"),
                                        err(40, "err 2\n"), out(1900, "out 4\n")};
const std::string kAll = "out 1\nerr 1\nout 2\nout 3\nerr 2\nout 4\n";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) result.push_back(line);
  return result;
}

class LogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    History history(home_.path());
    JobSpec spec;
    spec.command = "sh";
    spec.args = {"-c", "interleave"};
    spec.steps = kInterleaved;
    spec.result = JobSpec::exited(1, 2000);
    job_ = history.add(spec);
  }
  ProcessResult logs(std::vector<std::string> extra) {
    std::vector<std::string> args = {"job", "logs"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runJobtape(home_.path(), args);
  }

  TempHome home_;
  RecordedJob job_;
};

TEST_F(LogsTest, StdoutAndStderrInterleavedInTheOrderTheyCame) {
  ProcessResult result = logs({});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_EQ(result.out, kAll);
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(logs({job_.id}).out, kAll);
  EXPECT_EQ(logs({job_.eventsFile.string()}).out, kAll);
}

TEST_F(LogsTest, TailKeepsTheLastLines) {
  EXPECT_EQ(logs({"--tail", "3"}).out, "out 3\nerr 2\nout 4\n");
  EXPECT_EQ(logs({"--tail", "100"}).out, kAll);
  EXPECT_EQ(logs({"--tail", "0"}).out, "");
}

TEST_F(LogsTest, OneStreamOnly) {
  EXPECT_EQ(logs({"--stderr"}).out, "err 1\nerr 2\n");
  EXPECT_EQ(logs({"--stdout"}).out, "out 1\nout 2\nout 3\nout 4\n");
  EXPECT_EQ(logs({"--stderr", "--tail", "1"}).out, "err 2\n");
}

TEST_F(LogsTest, TimestampsAreElapsedAndMonotonic) {
  ProcessResult result = logs({"--timestamps"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto rows = lines(result.out);
  ASSERT_EQ(rows.size(), 6u);
  double previous = -1;
  std::regex prefix(R"(^\[ *([0-9]+\.[0-9]{3})s\] (.*)$)");
  std::string rest;
  for (const auto& row : rows) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(row, match, prefix)) << row;
    double time = std::stod(match[1]);
    EXPECT_GE(time, previous);
    previous = time;
    rest += match[2].str() + "\n";
  }
  EXPECT_EQ(rest, kAll);
  EXPECT_EQ(rows.front(), "[   0.010s] out 1");
  EXPECT_EQ(rows.back(), "[   1.900s] out 4");
}

TEST_F(LogsTest, JsonIsOneObjectAnEvent) {
  ProcessResult result = logs({"--format", "json"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto rows = lines(result.out);
  ASSERT_GE(rows.size(), 7u);  // description, 5 chunks, finish
  std::string text;
  std::vector<std::string> kinds;
  for (const auto& row : rows) {
    ParsedJson json(row);  // throws if it is not JSON
    kinds.push_back(stringMember(json.root(), "event"));
    if (kinds.back() == "output") text += stringMember(json.root(), "data");
  }
  EXPECT_EQ(kinds.front(), "job_started");
  EXPECT_EQ(kinds.back(), "job_finished");
  EXPECT_EQ(text, kAll);
  EXPECT_EQ(stringMember(ParsedJson(rows.front()).root(), "job_id"), job_.id);
}

TEST_F(LogsTest, CastIsAsciicastV2WithIncreasingTimes) {
  ProcessResult result = logs({"--format", "cast"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto rows = lines(result.out);
  ASSERT_EQ(rows.size(), 6u);
  ParsedJson header(rows[0]);
  EXPECT_EQ(numberMember(header.root(), "version"), 2);
  EXPECT_GT(numberMember(header.root(), "width"), 0);
  EXPECT_GT(numberMember(header.root(), "height"), 0);
  EXPECT_GT(numberMember(header.root(), "timestamp"), 1.6e9);
  EXPECT_DOUBLE_EQ(numberMember(header.root(), "duration"), 2.0);
  EXPECT_EQ(stringMember(header.root(), "command"), "sh -c interleave");
  double previous = 0;
  std::string text;
  for (size_t i = 1; i < rows.size(); ++i) {
    ParsedJson row(rows[i]);
    auto event = row.root().getArray();
    ASSERT_EQ(event.size(), 3u);
    EXPECT_GE(event[0].getNumber(), previous);
    previous = event[0].getNumber();
    EXPECT_STREQ(event[1].getString().cStr(), "o");
    text += event[2].getString().cStr();
  }
  EXPECT_EQ(text, std::regex_replace(kAll, std::regex("\n"), "\r\n"));
}

TEST_F(LogsTest, BadOptionsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--stdout", "--stderr"}, {"--tail", "-5"}, {"--format", "yaml"}, {"--format", "json", "--timestamps"}}) {
    ProcessResult result = logs(args);
    EXPECT_EQ(result.exitStatus, 2) << args.front();
    EXPECT_THAT(result.err, StartsWith("jobtape: error: ")) << args.front();
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

TEST(Logs, RawBytesComeOutAsTheJobWroteThem) {
  TempHome home;
  History history(home.path());
  static const char raw[] = "\x00\xff\xfe\x1b[31mred\x1b[0m\r\nno newline";
  std::string bytes(raw, sizeof raw - 1);
  JobSpec spec;
  spec.steps = {out(1, bytes)};
  history.add(spec);
  ProcessResult result = runJobtape(home.path(), {"job", "logs", "last"});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_EQ(result.out, bytes);
  // JSON keeps them exactly, in base64.
  result = runJobtape(home.path(), {"job", "logs", "last", "--format", "json"});
  auto rows = lines(result.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(stringMember(ParsedJson(rows[1]).root(), "base64"), "AP/+G1szMW1yZWQbWzBtDQpubyBuZXdsaW5l");
}

// Cuts a copy (in `dir`) of an events file of 60 one-line frames in the
// middle.
struct TruncatedFile {
  fs::path path;
  std::string full;
};

TruncatedFile truncatedCopy(const fs::path& home, const fs::path& dir) {
  History history(home);
  JobSpec spec;
  for (int i = 0; i < 60; ++i) {
    spec.steps.push_back(out(static_cast<uint64_t>(i * 10), "line " + std::to_string(i) + "\n"));
  }
  RecordedJob job = history.add(spec);
  TruncatedFile file{dir / "events.bin.zst", outputOf(spec.steps)};
  fs::copy_file(job.eventsFile, file.path);
  fs::resize_file(file.path, fs::file_size(file.path) * 6 / 10 + 3);
  return file;
}

TEST(Logs, TruncatedFilePrintsTheGoodPrefixAndWarnsWithTheOffset) {
  TempHome home;
  TempDir copies;
  TruncatedFile file = truncatedCopy(home.path(), copies.path());
  ProcessResult result = runJobtape(home.path(), {"job", "logs", file.path.string()});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_FALSE(result.out.empty());
  EXPECT_LT(result.out.size(), file.full.size());
  EXPECT_THAT(file.full, StartsWith(result.out));
  EXPECT_THAT(result.out, EndsWith("\n"));  // whole frames only
  std::smatch match;
  ASSERT_TRUE(std::regex_match(result.err, match,
                               std::regex("jobtape: warning: events file damaged at byte ([0-9]+): .+; "
                                          "output may be incomplete\n")))
      << result.err;
  EXPECT_LE(std::stoull(match[1]), fs::file_size(file.path));
  EXPECT_GT(std::stoull(match[1]), 0u);
}

TEST(Logs, TruncatedFileOfAFinishedJobInTheStoreWarnsToo) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  for (int i = 0; i < 40; ++i) spec.steps.push_back(out(static_cast<uint64_t>(i), "row " + std::to_string(i) + "\n"));
  RecordedJob job = history.add(spec);
  fs::resize_file(job.eventsFile, fs::file_size(job.eventsFile) / 2);
  ProcessResult result = runJobtape(home.path(), {"job", "logs", "last"});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_THAT(outputOf(spec.steps), StartsWith(result.out));
  EXPECT_THAT(result.err, MatchesRegex("jobtape: warning: events file damaged at byte [0-9]+: .*\n"));
}

TEST(Logs, ARunningJobsUnfinishedFileIsNotCalledDamaged) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.steps = {out(1, "so far\n")};
  spec.result.reset();
  auto live = history.start(spec);
  ProcessResult result = runJobtape(home.path(), {"job", "logs", "last"});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_EQ(result.out, "so far\n");
  EXPECT_EQ(result.err, "");
  live->finish(JobSpec::exited(0));
}

// `job logs --follow` as a child whose output the test reads line by line.
class Follower {
 public:
  Follower(const fs::path& home, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"--home", home.string(), "job", "logs", "--follow"};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = bp::child(jobtapeBinary().string(), bp::args(argv), bp::std_out > out_, bp::std_err > bp::null,
                       bp::std_in < bp::null);
  }
  ~Follower() {
    if (child_.running()) child_.terminate();
  }
  // The next line, or nullopt if none comes within a generous time.
  std::optional<std::string> line() {
    auto next = std::async(std::launch::async, [this]() -> std::optional<std::string> {
      std::string text;
      if (std::getline(out_, text)) return text;
      return std::nullopt;
    });
    if (next.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      child_.terminate();  // unblocks the reader
      next.wait();
      return std::nullopt;
    }
    return next.get();
  }
  // Exit status, or -1 if it does not end within a generous time.
  int exitStatus() {
    // Polls rather than child::wait_for, which Boost 1.74 gets wrong at times.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (child_.running()) {
      if (std::chrono::steady_clock::now() > deadline) {
        child_.terminate();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return child_.exit_code();
  }
  std::string rest() {
    std::string text((std::istreambuf_iterator<char>(out_)), std::istreambuf_iterator<char>());
    return text;
  }

 private:
  bp::ipstream out_;
  bp::child child_;
};

TEST(Logs, FollowPrintsLinesAsTheyComeAndReturnsWhenTheJobEnds) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.steps = {out(1, "first\n")};
  spec.result.reset();
  auto live = history.start(spec);
  Follower follower(home.path(), {"last"});
  EXPECT_EQ(follower.line(), "first");
  live->write(err(500, "second\n"));
  EXPECT_EQ(follower.line(), "second");  // came while the job still ran
  live->write(out(900, "third\n"));
  EXPECT_EQ(follower.line(), "third");
  live->finish(JobSpec::exited(0, 1000));
  EXPECT_EQ(follower.exitStatus(), 0);
  EXPECT_EQ(follower.rest(), "");
}

TEST(Logs, FollowStopsWhenTheStoreSaysTheJobEndedEvenIfTheFileNeverDoes) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.steps = {out(1, "only line\n")};
  spec.result.reset();
  auto live = history.start(spec);
  Follower follower(home.path(), {"last"});
  EXPECT_EQ(follower.line(), "only line");
  live->finishInStoreOnly(JobSpec::exited(3, 100));
  EXPECT_EQ(follower.exitStatus(), 0);
}

// A pid that certainly belongs to no process: one of ours, waited for.
pid_t deadPid() {
  bp::child child("/bin/true");
  pid_t pid = child.id();
  child.wait();
  return pid;
}

TEST(Logs, AnAbandonedJobIsFollowedToItsEndAndItsCutFileIsReported) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.steps = {out(1, "before the recorder died\n")};
  spec.result.reset();
  spec.recorderPid = deadPid();
  auto live = history.start(spec);
  live.reset();  // the writer goes away without jobFinished

  ProcessResult list = runJobtape(home.path(), {"job", "list"});
  EXPECT_THAT(list.out, HasSubstr("abandoned"));
  ProcessResult follow = runJobtape(home.path(), {"job", "logs", "--follow", "last"});
  EXPECT_EQ(follow.exitStatus, 0);
  EXPECT_FALSE(follow.timedOut);
  EXPECT_EQ(follow.out, "before the recorder died\n");
  EXPECT_THAT(follow.err, StartsWith("jobtape: warning: events file damaged at byte "));
  ProcessResult show = runJobtape(home.path(), {"job", "show", "last"});
  EXPECT_THAT(show.out, HasSubstr("status     abandoned\n"));
}

TEST(Logs, FollowOfAFinishedJobJustPrintsIt) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.steps = {out(1, "done\n")};
  history.add(spec);
  ProcessResult result = runJobtape(home.path(), {"job", "logs", "--follow", "last"});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_EQ(result.out, "done\n");
}

TEST(Replay, SpeedTenPrintsTheSameBytes) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.steps = kInterleaved;  // spans ~2 s
  spec.result = JobSpec::exited(0, 2000);
  history.add(spec);
  ProcessResult result = runJobtape(home.path(), {"job", "replay", "last", "--speed", "10"});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_FALSE(result.timedOut);
  EXPECT_EQ(result.out, outputOf(kInterleaved, sandbox::Stream::stdout_));
  EXPECT_EQ(result.err, outputOf(kInterleaved, sandbox::Stream::stderr_));
}

TEST(Replay, MaxIdleCutsALongPauseAndKeepsTheBytes) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.steps = {out(5, "before\n"), out(3005, "after three seconds\n")};
  history.add(spec);
  ProcessResult result = runJobtape(home.path(), {"job", "replay", "last", "--max-idle", "0.1"});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_EQ(result.out, "before\nafter three seconds\n");
}

TEST(Replay, InvalidSpeedIsAUsageError) {
  TempHome home;
  History history(home.path());
  history.add(JobSpec{});
  for (const auto& speed : {"0", "nan", "-2", "fast"}) {
    ProcessResult result = runJobtape(home.path(), {"job", "replay", "last", "--speed", speed});
    EXPECT_EQ(result.exitStatus, 2) << speed;
    EXPECT_THAT(result.err, StartsWith("jobtape: error: ")) << speed;
  }
  ProcessResult result = runJobtape(home.path(), {"job", "replay", "last", "--max-idle", "-1"});
  EXPECT_EQ(result.exitStatus, 2);
}

}  // namespace
}  // namespace jobtape::testing
