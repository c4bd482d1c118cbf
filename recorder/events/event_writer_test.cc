#include "recorder/events/event_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <numeric>
#include <system_error>

#include "recorder/events/event_reader.h"
#include "recorder/events/events_frame_writer.h"
#include "recorder/events/events_test_support.h"

namespace jobtape::recorder {
namespace {

using testing::exitedWith;
using testing::readAll;
using testing::readFile;
using testing::sampleDescription;
using testing::splitFrames;
using testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::span<const char> bytesOf(const std::string& s) { return {s.data(), s.size()}; }

// One file with every kind of event, written once and read back.
class RoundTrip : public ::testing::Test {
 protected:
  static std::string allByteValues() {
    std::string bytes(256, '\0');
    std::iota(bytes.begin(), bytes.end(), 0);  // every byte value, in order
    return bytes;
  }
  static inline const std::string kNotUtf8 = "\xff\xfe\xc3(\x80";
  static inline const std::string kWithNul{"a\0b", 3};
  static inline const sandbox::ResourceUsage kUsage{std::chrono::nanoseconds(1), std::chrono::nanoseconds(2), 3, 4, 5, 6, 7, 8, 9};

  static sandbox::RunResult seccompKill() {
    sandbox::RunResult result;
    result.outcome = sandbox::Outcome::seccompViolation;
    result.exitCode = 159;
    result.signal = 31;
    result.violatingSyscall = "ptrace";
    result.message = "killed for calling ptrace";
    result.rusage = kUsage;
    result.wallNs = 5000;
    return result;
  }

  void SetUp() override {
    const auto path = dir_ / "events.bin.zst";
    auto writer = EventWriter::create(path, sampleDescription());
    writer->exec({1000, 1, 0, "/usr/bin/cc", {"cc", "-c", kNotUtf8}, "/src/\xe9t\xe9"});
    writer->output(sandbox::Stream::stdout_, 1500, bytesOf("hello\n"));
    const std::string all = allByteValues();
    writer->output(sandbox::Stream::stderr_, 1600, bytesOf(all));
    writer->output(sandbox::Stream::stdout_, 1700, {});
    writer->exec({2000, 2, 1, "/usr/lib/gcc/cc1", {"cc1", kWithNul, ""}, "/src"});
    writer->processExit({3000, 2, true, 0, 0}, nullptr);
    writer->processExit({4000, 1, true, -1, 9}, &kUsage);
    writer->tracingIncomplete({4500, 164, 1218, "out of descriptors, process could not be read"});
    writer->finish(seccompKill());

    reader_ = EventReader::open(path);
    events_ = readAll(*reader_);
    ASSERT_FALSE(reader_->damage().has_value());
    ASSERT_EQ(events_.size(), 9u);
  }

  TempDir dir_;
  std::unique_ptr<EventReader> reader_;
  std::vector<Event> events_;
};

TEST_F(RoundTrip, Description) {
  const JobDescription& d = reader_->description();
  const JobDescription want = sampleDescription();
  EXPECT_EQ(d.jobId, want.jobId);
  EXPECT_EQ(d.buildId, want.buildId);
  EXPECT_EQ(d.recipe.command, "cc");
  EXPECT_THAT(d.recipe.args, ElementsAre("-c", "main.c", "-o", "main.o"));
  ASSERT_EQ(d.recipe.env.size(), 2u);
  EXPECT_EQ(d.recipe.env[1].value, "C.UTF-8");
  ASSERT_EQ(d.recipe.mounts.size(), 2u);
  EXPECT_EQ(d.recipe.mounts[1].kind, Mount::Kind::tmpfs);
  EXPECT_EQ(d.recipe.limits.timeoutMs, 60000u);
  EXPECT_EQ(d.recipeHash, want.recipeHash);
  EXPECT_EQ(d.host, "buildhost");
  EXPECT_EQ(d.startedAtUnixNs, want.startedAtUnixNs);
  EXPECT_TRUE(d.sandboxed);
  EXPECT_EQ(d.stateDir, want.stateDir);
  EXPECT_EQ(d.kernel, "6.1.0-test");
  EXPECT_EQ(d.callerUid, 1000u);
  EXPECT_EQ(d.callerGid, 1000u);
}

TEST_F(RoundTrip, ExecsKeepRawArgvBytes) {
  ASSERT_EQ(events_[0].kind, Event::Kind::exec);
  EXPECT_TRUE(events_[0].exec.spawned);
  EXPECT_EQ(events_[0].exec.record.elapsedNs, 1000u);
  EXPECT_EQ(events_[0].exec.record.executable, "/usr/bin/cc");
  EXPECT_THAT(events_[0].exec.record.argv, ElementsAre("cc", "-c", kNotUtf8));
  EXPECT_EQ(events_[0].exec.record.cwd, "/src/\xe9t\xe9");
  ASSERT_EQ(events_[4].kind, Event::Kind::exec);
  EXPECT_FALSE(events_[4].exec.spawned);
  EXPECT_EQ(events_[4].exec.record.pid, 2);
  EXPECT_EQ(events_[4].exec.record.ppid, 1);
  EXPECT_THAT(events_[4].exec.record.argv, ElementsAre("cc1", kWithNul, ""));
}

TEST_F(RoundTrip, OutputKeepsEveryByteValueAndEmptyChunks) {
  ASSERT_EQ(events_[1].kind, Event::Kind::output);
  EXPECT_EQ(events_[1].output.stream, sandbox::Stream::stdout_);
  EXPECT_EQ(events_[1].output.elapsedNs, 1500u);
  EXPECT_EQ(events_[1].output.bytes, "hello\n");
  ASSERT_EQ(events_[2].kind, Event::Kind::output);
  EXPECT_EQ(events_[2].output.stream, sandbox::Stream::stderr_);
  EXPECT_EQ(events_[2].output.bytes, allByteValues());
  ASSERT_EQ(events_[3].kind, Event::Kind::output);
  EXPECT_EQ(events_[3].output.elapsedNs, 1700u);
  EXPECT_EQ(events_[3].output.bytes, "");
}

TEST_F(RoundTrip, ProcessExits) {
  ASSERT_EQ(events_[5].kind, Event::Kind::processExit);
  EXPECT_EQ(events_[5].processExit.record.pid, 2);
  EXPECT_TRUE(events_[5].processExit.record.statusKnown);
  EXPECT_EQ(events_[5].processExit.record.exitCode, 0);
  EXPECT_EQ(events_[5].processExit.rusage.maxRssBytes, 0u);
  ASSERT_EQ(events_[6].kind, Event::Kind::processExit);
  EXPECT_EQ(events_[6].processExit.record.signal, 9);
  EXPECT_EQ(events_[6].processExit.record.exitCode, -1);
  EXPECT_EQ(events_[6].processExit.rusage.involuntarySwitches, 9u);
  EXPECT_EQ(events_[6].processExit.rusage.userCpu, std::chrono::nanoseconds(1));
}

TEST_F(RoundTrip, TracingIncompleteKeepsCountsAndReason) {
  ASSERT_EQ(events_[7].kind, Event::Kind::tracingIncomplete);
  const sandbox::TracingShortfall& t = events_[7].tracingIncomplete;
  EXPECT_EQ(t.elapsedNs, 4500u);
  EXPECT_EQ(t.missedExecs, 164u);
  EXPECT_EQ(t.missedExits, 1218u);
  EXPECT_EQ(t.reason, "out of descriptors, process could not be read");
}

TEST_F(RoundTrip, JobFinished) {
  ASSERT_EQ(events_[8].kind, Event::Kind::jobFinished);
  const auto& f = events_[8].finished;
  EXPECT_EQ(f.resultName, "failed");
  EXPECT_EQ(f.result.outcome, sandbox::Outcome::seccompViolation);
  EXPECT_EQ(f.result.exitCode, 159);
  EXPECT_EQ(f.result.signal, 31);
  EXPECT_EQ(f.result.violatingSyscall, "ptrace");
  EXPECT_EQ(f.result.message, "killed for calling ptrace");
  EXPECT_EQ(f.result.rusage.outBlocks, 7u);
  EXPECT_EQ(f.result.wallNs, 5000u);
}

TEST(EventWriter, SplitsA64MiBChunkIntoOneMiBEvents) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  std::string big(64u << 20, '\0');
  uint32_t x = 12345;
  for (char& c : big) {  // varied, partly compressible bytes
    x = x * 1103515245u + 12345u;
    c = static_cast<char>((x >> 16) & 0x3f);
  }
  {
    auto writer = EventWriter::create(path, sampleDescription());
    writer->output(sandbox::Stream::stdout_, 77, bytesOf(big));
    writer->output(sandbox::Stream::stderr_, 78, {big.data(), (1u << 20) + 1});
    writer->finish(exitedWith(0));
  }
  auto reader = EventReader::open(path);
  auto events = readAll(*reader);
  ASSERT_EQ(events.size(), 64u + 2u + 1u);
  std::string joined;
  for (size_t i = 0; i < 64; ++i) {
    ASSERT_EQ(events[i].kind, Event::Kind::output);
    EXPECT_EQ(events[i].output.bytes.size(), 1u << 20);
    EXPECT_EQ(events[i].output.elapsedNs, 77u);
    EXPECT_EQ(events[i].output.stream, sandbox::Stream::stdout_);
    joined += events[i].output.bytes;
  }
  EXPECT_TRUE(joined == big) << "the split chunks do not add up to the original";
  EXPECT_EQ(events[64].output.bytes.size(), 1u << 20);
  EXPECT_EQ(events[65].output.bytes, big.substr(1u << 20, 1));
  EXPECT_EQ(events[65].output.stream, sandbox::Stream::stderr_);
  EXPECT_EQ(events[66].kind, Event::Kind::jobFinished);
}

TEST(EventWriter, DescriptionIsAloneInTheFirstFrameBeforeAnyOutput) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  auto writer = EventWriter::create(path, sampleDescription());

  // The job has not produced anything yet: the file is exactly frame 1.
  auto frames = splitFrames(readFile(path));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].messages, 1u);
  auto reader = EventReader::open(path);
  EXPECT_EQ(reader->description().jobId, sampleDescription().jobId);
  EXPECT_FALSE(reader->next().has_value());

  writer->output(sandbox::Stream::stdout_, 10, bytesOf("compiling\n"));
  writer->output(sandbox::Stream::stdout_, 20, bytesOf("linking\n"));
  writer->flush();
  frames = splitFrames(readFile(path));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].messages, 1u);
  EXPECT_EQ(frames[1].messages, 2u);

  // The reader that saw the file end carries on once it has grown.
  auto event = reader->next();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->output.bytes, "compiling\n");
  writer->finish(exitedWith(0));
}

TEST(EventWriter, FramesEndEveryFewMiBOfInput) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  std::string chunk;
  while (chunk.size() < (64u << 10)) chunk += "src/foo.cc:12:3: warning: unused variable 'x'\n";
  chunk.resize(64u << 10);
  const size_t chunks = 5 * kFrameMaxInput / chunk.size();  // 5 frames' worth
  {
    auto writer = EventWriter::create(path, sampleDescription());
    for (size_t i = 0; i < chunks; ++i) writer->output(sandbox::Stream::stdout_, i, bytesOf(chunk));
    writer->finish(exitedWith(0));
  }
  auto frames = splitFrames(readFile(path));
  ASSERT_GE(frames.size(), 1u + 5u);
  size_t messages = 0;
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_LE(frames[i].contentSize, kFrameMaxInput) << "frame " << i;
    messages += frames[i].messages;
  }
  EXPECT_EQ(messages, chunks + 1);  // and jobFinished
  // Frames much smaller than the limit would cost compression: zstd starts
  // each one with an empty window (events_frame_writer.h). (The largest one:
  // a slow machine may end some by age.)
  size_t largest = 0;
  for (const auto& frame : frames) largest = std::max(largest, frame.contentSize);
  EXPECT_GE(largest, kFrameMaxInput - chunk.size() - 4096);
}

// Compiler-like warnings naming 36,000 files at random (bench/run_vs_bwrap.sh
// generates the same shape): repeats lie further apart than a small frame.
std::string compilerLikeOutput(size_t size) {
  std::string out;
  uint64_t x = 7;
  auto below = [&x](uint64_t n) { return ((x = x * 6364136223846793005u + 1442695040888963407u) >> 33) % n; };
  while (out.size() < size) {
    const auto n = std::to_string(below(5000));
    out += "src/module" + std::to_string(below(400)) + "/file" + std::to_string(below(90)) + ".cc:" + n + ":" +
           std::to_string(below(80)) + ": warning: unused variable 'tmp" + n + "' [-Wunused-variable]\n  " + n +
           " |     int tmp" + n + " = compute(" + n + ", data[" + std::to_string(below(64)) + "]);\n      |         ^~~~~~" +
           n + "\n";
  }
  out.resize(size);
  return out;
}

// What recording costs on disk: the events file of a chatty job against
// `zstd -3` of its output as one stream (goal: within 5 %).
TEST(EventWriter, OutputTakesLittleMoreRoomThanZstdOfTheSameBytes) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  const std::string output = compilerLikeOutput(size_t{16} << 20);
  {
    auto writer = EventWriter::create(path, sampleDescription());
    for (size_t at = 0; at < output.size(); at += 64u << 10) {
      writer->output(sandbox::Stream::stdout_, at, {output.data() + at, std::min(output.size() - at, size_t{64} << 10)});
    }
    writer->finish(exitedWith(0));
  }
  std::string zstd(ZSTD_compressBound(output.size()), '\0');
  const size_t zstdSize = ZSTD_compress(zstd.data(), zstd.size(), output.data(), output.size(), 3);
  ASSERT_FALSE(ZSTD_isError(zstdSize));
  const auto eventsSize = std::filesystem::file_size(path);
  EXPECT_LE(static_cast<double>(eventsSize), 1.05 * static_cast<double>(zstdSize))
      << "events file " << eventsSize << " bytes, zstd -3 " << zstdSize;
}

TEST(EventWriter, EndsAFrameByItselfWhileTheJobIsQuiet) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  auto writer = EventWriter::create(path, sampleDescription());
  auto reader = EventReader::open(path);
  writer->output(sandbox::Stream::stderr_, 5, bytesOf("one line, then silence\n"));
  // No flush: only the 250 ms rule can make this readable. The deadline is
  // a guard against hanging, not a timing assertion.
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto event = reader->nextFollowing([&] { return std::chrono::steady_clock::now() > giveUp; });
  ASSERT_TRUE(event.has_value()) << "the writer never ended the frame on its own";
  EXPECT_EQ(event->output.bytes, "one line, then silence\n");
  writer->finish(exitedWith(0));
}

TEST(EventWriter, ResultIsSucceededOnlyForExitStatusZero) {
  struct Case {
    sandbox::Outcome outcome;
    int exitCode;
    int signal;
    const char* result;
  };
  const Case cases[] = {
      {sandbox::Outcome::exited, 0, 0, "succeeded"},
      {sandbox::Outcome::exited, 1, 0, "failed"},
      {sandbox::Outcome::signaled, 137, 9, "failed"},
      {sandbox::Outcome::timedOut, 124, 15, "failed"},
      {sandbox::Outcome::setupFailed, 125, 0, "failed"},
      {sandbox::Outcome::commandNotFound, 127, 0, "failed"},
      {sandbox::Outcome::notExecutable, 126, 0, "failed"},
      {sandbox::Outcome::cancelled, 130, 2, "failed"},
  };
  TempDir dir;
  int n = 0;
  for (const Case& c : cases) {
    const auto path = dir / ("events" + std::to_string(n++) + ".bin.zst");
    sandbox::RunResult result;
    result.outcome = c.outcome;
    result.exitCode = c.exitCode;
    result.signal = c.signal;
    result.setupStep = c.outcome == sandbox::Outcome::setupFailed ? "pivot_root" : "";
    result.setupErrno = c.outcome == sandbox::Outcome::setupFailed ? 1 : 0;
    EventWriter::create(path, sampleDescription(), Durability::always)->finish(result);
    auto events = readAll(*EventReader::open(path));
    ASSERT_EQ(events.size(), 1u);
    const auto& finished = events[0].finished;
    EXPECT_EQ(finished.resultName, c.result) << sandbox::outcomeName(c.outcome);
    EXPECT_EQ(finished.result.outcome, c.outcome);
    EXPECT_EQ(finished.result.exitCode, c.exitCode);
    EXPECT_EQ(finished.result.signal, c.signal);
    EXPECT_EQ(finished.result.setupStep, result.setupStep);
    EXPECT_EQ(finished.result.setupErrno, result.setupErrno);
  }
}

TEST(EventWriter, RefusesToOverwriteAnExistingFile) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  testing::writeFile(path, "precious");
  try {
    EventWriter::create(path, sampleDescription());
    FAIL() << "create() overwrote an existing file";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EEXIST);
    EXPECT_THAT(e.what(), HasSubstr(path.string()));
  }
  EXPECT_EQ(readFile(path), "precious");
}

TEST(EventWriter, CreateFailsInAMissingDirectory) {
  TempDir dir;
  EXPECT_THROW(EventWriter::create(dir / "no" / "such" / "events.bin.zst", sampleDescription()),
               std::system_error);
}

TEST(EventWriter, DroppedWithoutFinishKeepsWhatItWasGiven) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  {
    auto writer = EventWriter::create(path, sampleDescription());
    writer->output(sandbox::Stream::stdout_, 1, bytesOf("partial work\n"));
  }
  auto reader = EventReader::open(path);
  auto events = readAll(*reader);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].output.bytes, "partial work\n");
  ASSERT_TRUE(reader->damage().has_value());
  EXPECT_THAT(reader->damage()->reason, HasSubstr("jobFinished"));
  EXPECT_EQ(reader->damage()->offset, std::filesystem::file_size(path));
}

// A full disk (here: RLIMIT_FSIZE in a child) surfaces from flush() and
// finish() as a system_error naming the file; what was written stays readable.
TEST(EventWriter, WriteErrorsSurfaceFromFlushAndFinish) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{64 << 10, 64 << 10};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 0;
    try {
      auto writer = EventWriter::create(path, sampleDescription());
      std::string noise(4u << 20, '\0');
      uint32_t x = 1;
      for (char& c : noise) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
      writer->output(sandbox::Stream::stdout_, 1, bytesOf(noise));
      try {
        writer->flush();
        code = 11;  // flush claimed success
      } catch (const std::system_error& e) {
        const bool named = std::string(e.what()).find(path.string()) != std::string::npos;
        if (e.code().value() != EFBIG || !named) code = 12;
      }
      try {
        writer->finish(exitedWith(1));
        if (code == 0) code = 13;  // finish claimed success
      } catch (const std::system_error&) {
      }
    } catch (...) {
      code = 14;
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "11: flush hid the error, 12: wrong error, "
                                       "13: finish hid it, 14: create failed";
  auto reader = EventReader::open(path);
  EXPECT_EQ(reader->description().jobId, sampleDescription().jobId);
}

TEST(EventWriter, UseAfterFinishIsALogicError) {
  TempDir dir;
  auto writer = EventWriter::create(dir / "events.bin.zst", sampleDescription());
  writer->finish(exitedWith(1));
  EXPECT_THROW(writer->output(sandbox::Stream::stdout_, 1, bytesOf("late")), std::logic_error);
  EXPECT_THROW(writer->finish(exitedWith(1)), std::logic_error);
}

}  // namespace
}  // namespace jobtape::recorder
