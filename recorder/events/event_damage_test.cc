// The reader against cut-short, damaged and crash-left events files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "recorder/events/event_reader.h"
#include "recorder/events/event_writer.h"
#include "recorder/events/events_test_support.h"

namespace jobtape::recorder {
namespace {

using testing::exitedWith;
using testing::FrameInfo;
using testing::readAll;
using testing::readFile;
using testing::sampleDescription;
using testing::splitFrames;
using testing::TempDir;
using testing::writeFile;
using ::testing::HasSubstr;

std::span<const char> bytesOf(const std::string& s) { return {s.data(), s.size()}; }

// A small real file of several frames (flushes end them), every kind of event.
std::string smallEventsFile(const TempDir& dir) {
  const auto path = dir / "source.bin.zst";
  auto writer = EventWriter::create(path, sampleDescription());
  writer->exec({10, 1, 0, "/bin/sh", {"sh", "-c", "make"}, "/src"});
  for (int i = 0; i < 6; ++i) {
    writer->output(i % 2 ? sandbox::Stream::stderr_ : sandbox::Stream::stdout_, 100 + i,
                   bytesOf("[" + std::to_string(i) + "/6] cc -c file" + std::to_string(i) + ".c\n"));
    if (i % 2 == 1) writer->flush();
  }
  sandbox::ResourceUsage usage{std::chrono::nanoseconds(1), std::chrono::nanoseconds(2), 3, 4, 5, 6, 7, 8, 9};
  writer->processExit({900, 1, true, 2, 0}, &usage);
  writer->finish(exitedWith(2));
  return readFile(path);
}

// Events are compared by kind and the fields that tell them apart.
std::string fingerprint(const Event& e) {
  switch (e.kind) {
    case Event::Kind::output:
      return "output " + std::to_string(e.output.elapsedNs) + " " + e.output.bytes;
    case Event::Kind::exec: return "exec " + e.exec.record.executable;
    case Event::Kind::processExit: return "exit " + std::to_string(e.processExit.record.exitCode);
    case Event::Kind::jobFinished: return "finished " + e.finished.resultName;
    default: return "other";
  }
}

std::vector<std::string> fingerprints(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(fingerprint(e));
  return out;
}

class DamagedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = smallEventsFile(dir_);
    frames_ = splitFrames(original_);
    auto reader = EventReader::open(dir_ / "source.bin.zst");
    all_ = fingerprints(readAll(*reader));
    ASSERT_FALSE(reader->damage().has_value());
    ASSERT_GE(frames_.size(), 4u);
    ASSERT_EQ(frames_[0].messages, 1u);
  }

  // How many events (after the description) whole frames hold up to `end`.
  size_t eventsInFramesBefore(uint64_t end) const {
    size_t events = 0;
    for (size_t i = 1; i < frames_.size(); ++i) {
      if (frames_[i].offset + frames_[i].compressedSize > end) break;
      events += frames_[i].messages;
    }
    return events;
  }
  uint64_t frameEndAround(uint64_t byte) const {
    for (const FrameInfo& f : frames_) {
      if (byte < f.offset + f.compressedSize) return f.offset + f.compressedSize;
    }
    return original_.size();
  }
  uint64_t firstIncompleteFrame(uint64_t end) const {
    for (const FrameInfo& f : frames_) {
      if (f.offset + f.compressedSize > end) return f.offset;
    }
    return end;
  }

  TempDir dir_;
  std::string original_;
  std::vector<FrameInfo> frames_;
  std::vector<std::string> all_;
};

// ninja's Truncated test, for the events file.
TEST_F(DamagedFile, TruncatedAtEveryOffsetYieldsExactlyTheWholeFramesBeforeTheCut) {
  ASSERT_LT(original_.size(), 4096u) << "keep this file small: the test is quadratic";
  const auto path = dir_ / "cut.bin.zst";
  const uint64_t descriptionEnd = frames_[0].compressedSize;
  for (size_t cut = 0; cut <= original_.size(); ++cut) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut));
    writeFile(path, original_.substr(0, cut));
    if (cut < descriptionEnd) {
      EXPECT_THROW(EventReader::open(path), NotAnEventsFile);
      continue;
    }
    auto reader = EventReader::open(path);
    auto events = fingerprints(readAll(*reader));
    const size_t want = eventsInFramesBefore(cut);
    ASSERT_EQ(events.size(), want);
    EXPECT_TRUE(std::equal(events.begin(), events.end(), all_.begin()));
    if (cut == original_.size()) {
      EXPECT_FALSE(reader->damage().has_value());
    } else {
      ASSERT_TRUE(reader->damage().has_value());
      EXPECT_EQ(reader->damage()->offset, firstIncompleteFrame(cut));
      EXPECT_FALSE(reader->damage()->reason.empty());
    }
  }
}

// Every single-bit flip is caught by zstd (frame checksums) or by the
// Cap'n Proto checks: the reader returns a prefix of the true events.
TEST_F(DamagedFile, EverySingleBitFlipGivesACleanErrorOrAGoodPrefix) {
  const auto path = dir_ / "flipped.bin.zst";
  size_t refused = 0;
  size_t shortened = 0;
  for (size_t bit = 0; bit < original_.size() * 8; ++bit) {
    std::string damaged = original_;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    writeFile(path, damaged);
    std::unique_ptr<EventReader> reader;
    try {
      reader = EventReader::open(path);
    } catch (const NotAnEventsFile&) {
      ++refused;
      continue;
    }
    auto events = fingerprints(readAll(*reader));
    ASSERT_LE(events.size(), all_.size()) << "bit " << bit;
    ASSERT_TRUE(std::equal(events.begin(), events.end(), all_.begin()))
        << "bit " << bit << " changed an event instead of ending the readable prefix";
    if (events.size() < all_.size()) {
      ++shortened;
      ASSERT_TRUE(reader->damage().has_value()) << "bit " << bit;
      // A flipped checksum flag moves the stop to the end of that frame.
      EXPECT_LE(reader->damage()->offset, frameEndAround(bit / 8)) << "bit " << bit;
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(shortened, 0u);
}

// Heavier damage: bursts of random bytes. Content may then slip through a
// frame whose checksum flag was flipped off, so the only demand is that the
// reader stays well-behaved (and ASan/UBSan stay quiet).
TEST_F(DamagedFile, RandomGarbageNeverCrashesTheReader) {
  const auto path = dir_ / "garbage.bin.zst";
  std::mt19937 random(20240601);
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = original_;
    const int hits = 1 + static_cast<int>(random() % 8);
    for (int h = 0; h < hits; ++h) {
      damaged[random() % damaged.size()] = static_cast<char>(random());
    }
    if (round % 3 == 0) damaged.resize(random() % damaged.size());
    writeFile(path, damaged);
    auto reader = EventReader::openIfReadable(path);
    if (!reader) continue;
    size_t count = 0;
    while (reader->next()) ++count;
    EXPECT_LE(count, 10000u);
  }
}

TEST_F(DamagedFile, ADamagedMiddleFrameEndsTheReadablePrefixWhereItStarts) {
  const FrameInfo& third = frames_[2];
  std::string damaged = original_;
  damaged[third.offset + third.compressedSize / 2] ^= 0x40;
  const auto path = dir_ / "middle.bin.zst";
  writeFile(path, damaged);
  auto reader = EventReader::open(path);
  auto events = fingerprints(readAll(*reader));
  EXPECT_EQ(events.size(), frames_[1].messages);
  ASSERT_TRUE(reader->damage().has_value());
  EXPECT_EQ(reader->damage()->offset, third.offset);
  EXPECT_THAT(reader->damage()->reason, HasSubstr("zstd"));
}

// The writer runs in a child that is SIGKILLed mid-stream; every frame it
// had ended (each flush() returned only after its frame was written) must
// be readable, in order.
TEST(EventWriterCrash, SigkilledWriterLeavesEveryEndedFrameReadable) {
  TempDir dir;
  const auto path = dir / "killed.bin.zst";
  int pipeFds[2];
  ASSERT_EQ(::pipe(pipeFds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipeFds[0]);
    try {
      auto writer = EventWriter::create(path, sampleDescription());
      std::string line;
      for (uint32_t i = 0; i < 200000; ++i) {  // bounded in case the parent is gone
        line = "event " + std::to_string(i) + " " + std::string(i % 4000, 'x') + "\n";
        writer->output(sandbox::Stream::stdout_, i, bytesOf(line));
        if (i % 7 == 6) {
          writer->flush();
          if (::write(pipeFds[1], &i, sizeof i) != sizeof i) ::_exit(1);
        }
      }
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(3);
  }
  ::close(pipeFds[1]);
  uint32_t lastFlushed = 0;
  int flushes = 0;
  while (flushes < 200 && ::read(pipeFds[0], &lastFlushed, sizeof lastFlushed) == sizeof lastFlushed) {
    ++flushes;
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child writer died early";
  ::close(pipeFds[0]);

  auto reader = EventReader::open(path);
  auto events = readAll(*reader);
  ASSERT_GT(events.size(), lastFlushed) << "lost events of a frame that had been ended";
  for (uint32_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].kind, Event::Kind::output);
    ASSERT_EQ(events[i].output.elapsedNs, i);
    ASSERT_EQ(events[i].output.bytes, "event " + std::to_string(i) + " " + std::string(i % 4000, 'x') + "\n");
  }
  ASSERT_TRUE(reader->damage().has_value()) << "a killed writer's file has no jobFinished";
  EXPECT_LE(reader->damage()->offset, std::filesystem::file_size(path));
}

}  // namespace
}  // namespace jobtape::recorder
