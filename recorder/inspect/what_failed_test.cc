// The public what-failed API: reading an events file and rendering it.
#include <jobtape/what_failed.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "recorder/events/event_writer.h"
#include "recorder/events/events_test_support.h"

namespace jobtape {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kMs = 1'000'000;

std::string escapeForTest(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '\x1b' ? std::string("\\x1b") : std::string(1, c);
  return out;
}

WhatFailedTextOptions textOptions(size_t maxLines = 14) {
  WhatFailedTextOptions options;
  options.escape = escapeForTest;
  options.maxLines = maxLines;
  options.width = 100;
  return options;
}

size_t lineCount(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

class EventsFile {
 public:
  EventsFile() : writer_(recorder::EventWriter::create(path(), recorder::testing::sampleDescription())) {}
  std::filesystem::path path() const { return dir_ / "events.bin.zst"; }
  recorder::EventWriter& writer() { return *writer_; }

  void exec(int32_t pid, int32_t ppid, uint64_t atMs, std::vector<std::string> argv, std::string cwd = "/src") {
    writer_->exec({atMs * kMs, pid, ppid, "/usr/bin/" + argv.front(), std::move(argv), std::move(cwd)});
  }
  void exit(int32_t pid, uint64_t atMs, int code, int signal = 0) {
    writer_->processExit({atMs * kMs, pid, true, signal ? -1 : code, signal});
  }
  void err(uint64_t atMs, std::string_view text) {
    writer_->output(sandbox::Stream::stderr_, atMs * kMs, std::span<const char>(text.data(), text.size()));
  }
  void finish(int code) { writer_->finish(recorder::testing::exitedWith(code)); }

 private:
  recorder::testing::TempDir dir_;
  std::unique_ptr<recorder::EventWriter> writer_;
};

// make -j2 -> make -C src -> cc bad.c (-> cc1), with cc good.c beside it.
void recordBrokenMake(EventsFile& file) {
  file.exec(2, 1, 0, {"make", "-j2"});
  file.exec(3, 2, 1, {"make", "-C", "src"});
  file.exec(4, 3, 2, {"cc", "-c", "good.c", "-o", "good.o"}, "/src/src");
  file.exec(5, 3, 2, {"cc", "-c", "bad.c", "-o", "bad.o"}, "/src/src");
  file.exec(6, 5, 3, {"/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "bad.c"}, "/src/src");
  file.exit(4, 4, 0);
  file.err(5, "bad.c: In function 'bad':\nbad.c:2:10: error: 'undefined_thing' undeclared\n");
  file.err(5, "    2 |   return undefined_thing;\n      |          ^~~~~~~~~~~~~~~\n");
  file.err(5, "bad.c:2:10: note: each undeclared identifier is reported only once\n");
  file.exit(6, 6, 1);
  file.exit(5, 6, 1);
  file.err(7, "make[1]: *** [Makefile:3: bad.o] Error 1\n");
  file.exit(3, 8, 2);
  file.exit(2, 9, 2);
  file.finish(2);
}

TEST(WhatFailed, NamesTheCompilerCommandWithItsChainAndOutput) {
  EventsFile file;
  recordBrokenMake(file);
  WhatFailed failed = whatFailed(file.path());
  EXPECT_EQ(failed.jobId, recorder::testing::sampleDescription().jobId);
  EXPECT_TRUE(failed.finished);
  EXPECT_FALSE(failed.succeeded);
  EXPECT_EQ(failed.processesRecorded, 5u);
  EXPECT_EQ(failed.processesFailed, 4u);
  ASSERT_EQ(failed.processes.size(), 1u);
  const FailedProcess& bad = failed.processes[0];
  EXPECT_EQ(bad.commandLine, "cc -c bad.c -o bad.o");
  EXPECT_EQ(bad.process.pid, 5);
  EXPECT_EQ(bad.process.cwd, "/src/src");
  EXPECT_EQ(bad.process.exitCode, 1);
  EXPECT_EQ(bad.process.role, "compiler driver");
  EXPECT_EQ(bad.process.start, std::chrono::milliseconds(2));
  EXPECT_EQ(bad.process.duration, std::chrono::milliseconds(4));
  ASSERT_EQ(bad.chain.size(), 3u);
  EXPECT_EQ(bad.chain[0].argv, (std::vector<std::string>{"make", "-j2"}));
  EXPECT_EQ(bad.chain[1].exitCode, 2);
  ASSERT_EQ(bad.failedHelpers.size(), 1u);
  EXPECT_EQ(bad.failedHelpers[0].pid, 6);
  ASSERT_EQ(bad.during.lines.size(), 5u);
  EXPECT_EQ(bad.during.lines[1].text, "bad.c:2:10: error: 'undefined_thing' undeclared");
  EXPECT_EQ(bad.during.lines[1].stream, OutputStream::stderr_);
  EXPECT_TRUE(bad.attributed) << "good.c's compiler had ended before bad.c's wrote";
  ASSERT_EQ(bad.after.lines.size(), 1u);
  EXPECT_THAT(bad.after.lines[0].text, HasSubstr("Error 1"));
}

TEST(WhatFailed, AFileThatIsNoEventsFileIsAnIoError) {
  recorder::testing::TempDir dir;
  std::ofstream(dir / "junk") << "not zstd";
  try {
    whatFailed(dir / "junk");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), Error::Kind::io);
  }
}

TEST(WhatFailedText, ACommandItsErrorAndHowSureTheAttributionIs) {
  EventsFile file;
  recordBrokenMake(file);
  std::string text = renderWhatFailed(whatFailed(file.path()), textOptions());
  EXPECT_EQ(text.substr(0, text.find('\n')), "  exit 1  cc -c bad.c -o bad.o");
  EXPECT_THAT(text, HasSubstr("│ bad.c:2:10: error: 'undefined_thing' undeclared\n"));
  EXPECT_THAT(text, HasSubstr("└ output while it ran alone; ╎ right after it ended · pid 5 in ./src\n"));
  EXPECT_THAT(text, HasSubstr("╎ make[1]: *** [Makefile:3: bad.o] Error 1\n"));
  EXPECT_LE(lineCount(text), 14u);
}

TEST(WhatFailedText, FromTheFirstErrorLineWhenTheTailHasNone) {
  EventsFile file;
  file.exec(2, 1, 0, {"sh", "-c", "./gen"});
  file.exec(3, 2, 1, {"./gen"});
  file.err(2, "gen: error: schema.json:4: unknown field\n");
  for (int i = 0; i < 40; ++i) file.err(2, "  while reading item " + std::to_string(i) + "\n");
  file.exit(3, 3, 1);
  file.exit(2, 4, 1);
  file.finish(1);
  WhatFailedTextOptions options = textOptions(6);
  std::string text = renderWhatFailed(whatFailed(file.path()), options);
  EXPECT_THAT(text, HasSubstr("│ gen: error: schema.json:4: unknown field\n"));
  EXPECT_THAT(text, Not(HasSubstr("item 39")));
  EXPECT_LE(lineCount(text), 6u);
}

TEST(WhatFailedText, LinesThatMayBeAnothersAreMarked) {
  EventsFile file;
  file.exec(2, 1, 0, {"make", "-j2"});
  file.exec(3, 2, 1, {"cc", "-c", "bad.c"});
  file.exec(4, 2, 1, {"cc", "-c", "slow.c"});
  file.err(2, "bad.c:1:1: error: unknown type name 'nope'\n");
  file.err(2, "slow.c:3: warning: slow\n");
  file.exit(3, 3, 1);
  file.exit(4, 9, 0);
  file.exit(2, 9, 2);
  file.finish(2);
  std::string text = renderWhatFailed(whatFailed(file.path()), textOptions());
  EXPECT_THAT(text, HasSubstr("│ bad.c:1:1: error: unknown type name 'nope'\n"));
  EXPECT_THAT(text, HasSubstr("┆ slow.c:3: warning: slow\n"));
  EXPECT_THAT(text, HasSubstr("while it ran, with 1 other: ┆ may be theirs · pid 3 in .\n"));
}

TEST(WhatFailedText, SaysWhenTheLinesAreItsOwnByName) {
  EventsFile file;
  file.exec(2, 1, 0, {"make", "-j2"});
  file.exec(3, 2, 1, {"cc", "-c", "bad.c"});
  file.exec(4, 2, 1, {"cc", "-c", "slow.c"});
  file.err(2, "bad.c:1:1: error: unknown type name 'nope'\n    1 | nope x;\n");
  file.exit(3, 3, 1);
  file.exit(4, 9, 0);
  file.exit(2, 9, 2);
  file.finish(2);
  WhatFailed failed = whatFailed(file.path());
  ASSERT_EQ(failed.processes.size(), 1u);
  EXPECT_FALSE(failed.processes[0].attributed);
  EXPECT_TRUE(failed.processes[0].attributedByName);
  std::string text = renderWhatFailed(failed, textOptions());
  EXPECT_THAT(text, HasSubstr("│     1 | nope x;\n"));
  EXPECT_THAT(text, HasSubstr("while it ran, with 1 other; these lines name its files · pid 3 in .\n"));
}

TEST(WhatFailedText, ManyFailuresStayWithinTheBudget) {
  EventsFile file;
  file.exec(2, 1, 0, {"make", "-k", "-j8"});
  for (int i = 0; i < 50; ++i) {
    int32_t pid = 3 + i;
    file.exec(pid, 2, 1 + i, {"cc", "-c", "f" + std::to_string(i) + ".c"});
    file.err(1 + i, "f" + std::to_string(i) + ".c:1: error: broken\nmore\nand more\n");
    file.exit(pid, 1 + i, 1);
  }
  file.exit(2, 60, 2);
  file.finish(2);
  WhatFailed failed = whatFailed(file.path());
  EXPECT_EQ(failed.processes.size(), 50u);
  std::string text = renderWhatFailed(failed, textOptions());
  EXPECT_LE(lineCount(text), 14u) << text;
  EXPECT_THAT(text, HasSubstr("  exit 1  cc -c f0.c\n"));
  EXPECT_THAT(text, HasSubstr("… and 47 more failed processes"));
  // With each one's chain (job show), still within the budget.
  WhatFailedTextOptions withChains = textOptions(30);
  withChains.chains = true;
  std::string long_ = renderWhatFailed(failed, withChains);
  EXPECT_LE(lineCount(long_), 30u) << long_;
  EXPECT_THAT(long_, HasSubstr("ran by  make -k -j8 (pid 2, exit 2)\n"));
}

TEST(WhatFailedText, RecordedTextIsEscaped) {
  EventsFile file;
  file.exec(2, 1, 0, {"sh", "-c", "printf '\x1b]0;x\x07'; exit 1"});
  file.err(1, "\x1b[2Jgone\n");
  file.exit(2, 2, 1);
  file.finish(1);
  std::string text = renderWhatFailed(whatFailed(file.path()), textOptions());
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_THAT(text, HasSubstr("\\x1b[2Jgone"));
}

TEST(WhatFailedText, KilledProcessesSayBySignal) {
  EventsFile file;
  file.exec(2, 1, 0, {"sh", "-c", "sleep 100"});
  file.exec(3, 2, 1, {"sleep", "100"});
  file.exit(3, 1000, 0, SIGTERM);
  file.exit(2, 1000, 0, SIGTERM);
  file.finish(124);
  std::string text = renderWhatFailed(whatFailed(file.path()), textOptions());
  EXPECT_EQ(text.substr(0, text.find('\n')), "  killed by SIGTERM  sleep 100");
  EXPECT_THAT(text, HasSubstr("no output while it ran"));
}

TEST(WhatFailedText, ABuildToolsReportAfterTheEndIsReadWithWhatCameBefore) {
  // ctest --output-on-failure prints a test's output once it ended.
  EventsFile file;
  file.exec(2, 1, 0, {"ctest", "--output-on-failure"});
  file.exec(3, 2, 1, {"/build/failing_test"});
  file.exit(3, 2, 1);
  file.err(3, "2/2 Test #2: failing ..........***Failed    0.00 sec\nexpected 3, got 4\n\n");
  file.err(3, "50% tests passed, 1 tests failed out of 2\n\nTotal Test time (real) =   0.02 sec\n\n");
  file.err(3, "The following tests FAILED:\n\t  2 - failing (Failed)\nErrors while running CTest\n");
  file.exit(2, 4, 8);
  file.finish(8);
  std::string text = renderWhatFailed(whatFailed(file.path()), textOptions());
  EXPECT_THAT(text, HasSubstr("    ╎ 2/2 Test #2: failing ..........***Failed    0.00 sec\n    ╎ expected 3, got 4\n"));
  EXPECT_THAT(text, HasSubstr("└ output right after it ended (its build tool's report) · pid 3 in ."));
}

TEST(WhatFailedText, NothingForASucceededJob) {
  EventsFile file;
  file.exec(2, 1, 0, {"true"});
  file.exit(2, 1, 0);
  file.finish(0);
  WhatFailed failed = whatFailed(file.path());
  EXPECT_TRUE(failed.succeeded);
  EXPECT_EQ(renderWhatFailed(failed, textOptions()), "");
}

TEST(WhatFailedText, EscapingIsRequired) {
  EXPECT_THROW(renderWhatFailed(WhatFailed{}, WhatFailedTextOptions{}), Error);
}

}  // namespace
}  // namespace jobtape
