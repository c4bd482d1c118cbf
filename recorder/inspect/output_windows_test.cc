#include "recorder/inspect/output_windows.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/events/event_writer.h"
#include "recorder/events/events_test_support.h"

namespace jobtape::recorder {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kMs = 1'000'000;

// Writes a real events file, then reads it back the way `job show` does.
class RecordedJob {
 public:
  RecordedJob() : writer_(EventWriter::create(dir_ / "events.bin.zst", testing::sampleDescription())) {}

  RecordedJob& exec(int32_t pid, int32_t ppid, uint64_t atMs, std::vector<std::string> argv) {
    writer_->exec({atMs * kMs, pid, ppid, "/usr/bin/" + argv.front(), std::move(argv), "/src"});
    return *this;
  }
  RecordedJob& exit(int32_t pid, uint64_t atMs, int code) {
    writer_->processExit({atMs * kMs, pid, true, code, 0});
    return *this;
  }
  RecordedJob& out(uint64_t atMs, std::string_view bytes, sandbox::Stream stream = sandbox::Stream::stderr_) {
    writer_->output(stream, atMs * kMs, std::span<const char>(bytes.data(), bytes.size()));
    return *this;
  }

  std::vector<FailureOutput> windows(const WindowLimits& limits = {}) {
    writer_->finish(testing::exitedWith(2));
    auto reader = EventReader::open(dir_ / "events.bin.zst");
    summary_ = summarizeEvents(*reader);
    chains_ = findFailingChains(summary_.processes, summary_.finished);
    auto again = EventReader::open(dir_ / "events.bin.zst");
    return collectFailureOutput(*again, summary_.processes, chains_, limits);
  }
  const std::vector<FailingChain>& chains() const { return chains_; }
  const ProcessTree& tree() const { return summary_.processes; }

 private:
  testing::TempDir dir_;
  std::unique_ptr<EventWriter> writer_;
  JobSummary summary_;
  std::vector<FailingChain> chains_;
};

std::vector<std::string> texts(const LineWindow& window) {
  std::vector<std::string> out;
  for (const auto& line : window.lines) out.push_back(line.text);
  return out;
}

TEST(OutputWindows, WhatArrivedWhileOnlyItsOwnLineRanIsAttributed) {
  RecordedJob job;
  job.exec(2, 1, 0, {"make"})
      .out(1, "cc -c bad.c\n", sandbox::Stream::stdout_)
      .exec(3, 2, 2, {"cc", "-c", "bad.c"})
      .exec(4, 3, 3, {"cc1", "bad.c"})
      .out(5, "bad.c:2:10: error: 'x' undeclared\n")
      .exit(4, 6, 1)
      .exit(3, 6, 1)
      .out(7, "make: *** [Makefile:3: bad.o] Error 1\n")
      .exit(2, 8, 2);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(job.tree().nodes[job.chains()[0].node].pid, 3);
  const FailureOutput& output = windows[0];
  EXPECT_THAT(texts(output.during), ElementsAre("bad.c:2:10: error: 'x' undeclared"));
  EXPECT_TRUE(output.during.lines[0].alone);
  EXPECT_EQ(output.during.lines[0].stream, sandbox::Stream::stderr_);
  EXPECT_TRUE(output.attributed);
  EXPECT_EQ(output.concurrentProcesses, 0u);
  EXPECT_EQ(output.during.beginNs, 2 * kMs);
  EXPECT_EQ(output.during.endNs, 6 * kMs);
  // make's line came after cc ended and before anything else happened.
  EXPECT_THAT(texts(output.after), ElementsAre("make: *** [Makefile:3: bad.o] Error 1"));
}

TEST(OutputWindows, OutputWhileAnotherCommandRanIsOnlyInTheWindow) {
  RecordedJob job;
  job.exec(2, 1, 0, {"make", "-j2"})
      .exec(3, 2, 1, {"cc", "-c", "good.c"})
      .exec(4, 2, 2, {"cc", "-c", "bad.c"})
      .out(3, "good.c:1: warning: unused\n")
      .exit(3, 4, 0)
      .out(5, "bad.c:2: error: nope\n")
      .exit(4, 6, 1)
      .exit(2, 7, 2);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  const FailureOutput& output = windows[0];
  ASSERT_THAT(texts(output.during), ElementsAre("good.c:1: warning: unused", "bad.c:2: error: nope"));
  EXPECT_FALSE(output.during.lines[0].alone);
  EXPECT_TRUE(output.during.lines[1].alone);
  EXPECT_FALSE(output.attributed);
  EXPECT_EQ(output.concurrentProcesses, 1u);
}

TEST(OutputWindows, LinesNamingItsFilesAndNoneOfTheOthersAreItsOwnByName) {
  RecordedJob job;
  job.exec(2, 1, 0, {"make", "-j2"})
      .exec(3, 2, 1, {"cc", "-c", "src/bad.c", "-o", "bad.o"})
      .exec(4, 2, 1, {"cc", "-c", "src/good.c", "-o", "good.o"})
      .out(2, "src/bad.c:2:10: error: 'x' undeclared\n    2 |   return x;\n")
      .out(3, "src/good.c:7:1: warning: unused\n    7 | int y;\n")
      .out(3, "note: something nobody names\n")
      .exit(3, 4, 1)
      .exit(4, 5, 0)
      .exit(2, 6, 2);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  const auto& lines = windows[0].during.lines;
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_TRUE(lines[0].byName) << "names bad.c, and good.c's compiler does not";
  EXPECT_TRUE(lines[1].byName) << "follows a line of its own and names nobody's file";
  EXPECT_FALSE(lines[2].byName) << "names good.c, the other running compiler's file";
  EXPECT_FALSE(lines[3].byName) << "follows the other compiler's line";
  EXPECT_FALSE(lines[4].byName);
  for (const auto& line : lines) EXPECT_FALSE(line.alone);
  EXPECT_FALSE(windows[0].attributed);
  EXPECT_FALSE(windows[0].attributedByName);
}

TEST(OutputWindows, ANameIsAWholeWord) {
  RecordedJob job;
  job.exec(2, 1, 0, {"make", "-j2"})
      .exec(3, 2, 1, {"cc", "-c", "bad.c"})
      .exec(4, 2, 1, {"cc", "-c", "other.c"})
      .out(2, "notbad.c: error\n")
      .out(2, "bad.cc: error\n")
      .out(2, "‘bad.c’: error\n")
      .exit(3, 4, 1)
      .exit(4, 5, 0)
      .exit(2, 6, 2);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  const auto& lines = windows[0].during.lines;
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].byName);
  EXPECT_FALSE(lines[1].byName);
  EXPECT_TRUE(lines[2].byName);
}

TEST(OutputWindows, AfterEndsWhereAnotherProcessStartsOrEnds) {
  // ninja prints a command's captured output once it ended.
  RecordedJob job;
  job.exec(2, 1, 0, {"ninja"})
      .exec(3, 2, 1, {"cc", "-c", "other.c"})
      .exec(4, 2, 1, {"cc", "-c", "bad.c"})
      .exit(4, 3, 1)
      .out(4, "FAILED: bad.o\n", sandbox::Stream::stdout_)
      .out(4, "bad.c:1: error: nope\n", sandbox::Stream::stdout_)
      .exit(3, 5, 0)
      .out(6, "ninja: build stopped: subcommand failed.\n", sandbox::Stream::stdout_)
      .exit(2, 7, 1);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_THAT(texts(windows[0].during), IsEmpty());
  EXPECT_THAT(texts(windows[0].after), ElementsAre("FAILED: bad.o", "bad.c:1: error: nope"));
  EXPECT_FALSE(windows[0].after.lines[0].alone) << "other.c's compiler was still running";
  EXPECT_EQ(windows[0].after.endNs, 5 * kMs);
}

TEST(OutputWindows, AHelperOfACommandStillRunningDoesNotEndAfter) {
  // ninja -j2 under load: other.c's driver starts its assembler between
  // bad.c's end and ninja's report of it.
  RecordedJob job;
  job.exec(2, 1, 0, {"ninja"})
      .exec(3, 2, 1, {"c++", "-c", "other.cc"})
      .exec(4, 2, 1, {"c++", "-c", "bad.cc"})
      .exec(5, 3, 2, {"cc1plus", "other.cc"})
      .exit(5, 3, 0)
      .exit(4, 3, 1)
      .exec(6, 3, 4, {"as", "-o", "other.o"})
      .out(5, "FAILED: bad.o\n", sandbox::Stream::stdout_)
      .out(5, "bad.cc:1: error: nope\n", sandbox::Stream::stdout_)
      .exit(6, 6, 0)
      .exit(3, 7, 0)
      .out(8, "ninja: build stopped: subcommand failed.\n", sandbox::Stream::stdout_)
      .exit(2, 9, 1);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_THAT(texts(windows[0].after), ElementsAre("FAILED: bad.o", "bad.cc:1: error: nope"));
  EXPECT_FALSE(windows[0].after.lines[0].alone) << "other.cc's assembler was running";
  EXPECT_EQ(windows[0].after.endNs, 7 * kMs) << "other.cc's driver's end ends it";
}

TEST(OutputWindows, ALateReportThatNamesItsFilesIsStillItsOwn) {
  // ninja -j2 under load: other.c's compiler ends before ninja gets round
  // to printing bad.c's captured output; the lines naming other.c stop it.
  RecordedJob job;
  job.exec(2, 1, 0, {"ninja"})
      .exec(3, 2, 1, {"cc", "-o", "other.o", "-c", "other.c"})
      .exec(4, 2, 1, {"cc", "-o", "bad.o", "-c", "src/bad.c"})
      .exit(4, 3, 1)
      .exit(3, 4, 0)
      .out(5, "[2/3] Building other.o\n", sandbox::Stream::stdout_)
      .out(6, "FAILED: bad.o\ncc -o bad.o -c src/bad.c\nsrc/bad.c:2:10: error: nope\n", sandbox::Stream::stdout_)
      .out(6, "    2 | #include <nope.h>\n", sandbox::Stream::stdout_)
      .out(7, "[3/3] Linking other.o into app\n", sandbox::Stream::stdout_)
      .out(7, "ninja: build stopped: subcommand failed.\n", sandbox::Stream::stdout_)
      .exit(2, 8, 1);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_THAT(texts(windows[0].after), ElementsAre("FAILED: bad.o", "cc -o bad.o -c src/bad.c",
                                                   "src/bad.c:2:10: error: nope", "    2 | #include <nope.h>"));
  EXPECT_EQ(windows[0].after.endNs, std::nullopt) << "to the end of the record";
}

TEST(OutputWindows, ALateReportCountsPastTheShellThatWrappedTheCommand) {
  // ninja runs `/bin/sh -c "cd build && cc …"`: the shell ends with cc, and
  // ninja's report comes after the other compiler ended.
  RecordedJob job;
  job.exec(2, 1, 0, {"ninja"})
      .exec(3, 2, 1, {"cc", "-o", "other.o", "-c", "other.c"})
      .exec(4, 2, 1, {"sh", "-c", "cd build && cc -o bad.o -c ../src/bad.c"})
      .exec(5, 4, 1, {"cc", "-o", "bad.o", "-c", "../src/bad.c"})
      .exit(5, 3, 1)
      .exit(4, 3, 1)
      .exit(3, 4, 0)
      .out(6, "FAILED: bad.o\n../src/bad.c:2:10: error: nope\n", sandbox::Stream::stdout_)
      .exit(2, 8, 1);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_THAT(texts(windows[0].after), ElementsAre("FAILED: bad.o", "../src/bad.c:2:10: error: nope"));
}

TEST(OutputWindows, NoLateReportWhenTheWindowAlreadyNamedIt) {
  RecordedJob job;
  job.exec(2, 1, 0, {"ninja"})
      .exec(3, 2, 1, {"cc", "-c", "other.c"})
      .exec(4, 2, 1, {"cc", "-c", "bad.c"})
      .exit(4, 3, 1)
      .out(4, "FAILED: bad.o\nbad.c:1: error: nope\n", sandbox::Stream::stdout_)
      .exit(3, 5, 0)
      .out(6, "bad.c again, later\n", sandbox::Stream::stdout_)
      .exit(2, 7, 1);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_THAT(texts(windows[0].after), ElementsAre("FAILED: bad.o", "bad.c:1: error: nope"));
}

TEST(OutputWindows, LinesAreJoinedAcrossChunksAndCutWhenTooLong) {
  RecordedJob job;
  std::string longLine(kMaxLineBytes + 100, 'x');
  job.exec(2, 1, 0, {"sh", "-c", "./check"})
      .exec(3, 2, 1, {"./check"})
      .out(2, "first ha")
      .out(3, "lf\nsecond", sandbox::Stream::stderr_)
      .out(3, "on stdout\n", sandbox::Stream::stdout_)
      .out(4, longLine + "\nlast without newline")
      .exit(3, 5, 1)
      .exit(2, 6, 1);
  auto windows = job.windows();
  ASSERT_EQ(windows.size(), 1u);
  const LineWindow& during = windows[0].during;
  ASSERT_EQ(during.lines.size(), 4u);
  EXPECT_EQ(during.lines[0].text, "first half");
  EXPECT_EQ(during.lines[0].elapsedNs, 3 * kMs);
  EXPECT_EQ(during.lines[1].text, "on stdout");
  EXPECT_EQ(during.lines[1].stream, sandbox::Stream::stdout_);
  EXPECT_EQ(during.lines[2].text, "second" + longLine.substr(0, kMaxLineBytes - 6));
  EXPECT_TRUE(during.lines[2].cut);
  EXPECT_EQ(during.lines[3].text, "last without newline");
  EXPECT_EQ(during.totalLines, 4u);
}

TEST(OutputWindows, KeepsTheFirstAndTheLastLines) {
  RecordedJob job;
  job.exec(2, 1, 0, {"sh", "-c", "./noisy"}).exec(3, 2, 1, {"./noisy"});
  for (int i = 0; i < 30; ++i) job.out(2, "line " + std::to_string(i) + "\n");
  job.exit(3, 3, 1).exit(2, 4, 1);
  auto windows = job.windows({5, 10});
  ASSERT_EQ(windows.size(), 1u);
  const LineWindow& during = windows[0].during;
  EXPECT_EQ(during.totalLines, 30u);
  EXPECT_EQ(during.omitted, 15u);
  EXPECT_EQ(during.omittedAt, 5u);
  ASSERT_EQ(during.lines.size(), 15u);
  EXPECT_EQ(during.lines[4].text, "line 4");
  EXPECT_EQ(during.lines[5].text, "line 20");
  EXPECT_EQ(during.lines.back().text, "line 29");
}

TEST(OutputWindows, NoWindowsWithoutAFailingProcess) {
  RecordedJob job;
  job.exec(2, 1, 0, {"true"}).out(1, "hello\n").exit(2, 2, 0);
  EXPECT_THAT(job.windows(), IsEmpty());
}

}  // namespace
}  // namespace jobtape::recorder
