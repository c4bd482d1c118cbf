#include "recorder/events/event_reader.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "recorder/events/events.capnp.h"
#include "recorder/events/events_test_support.h"

namespace jobtape::recorder {
namespace {

using testing::exitedWith;
using testing::readAll;
using testing::sampleDescription;
using testing::TempDir;
using testing::writeFile;
using ::testing::HasSubstr;
using ::testing::Not;

std::span<const char> bytesOf(const std::string& s) { return {s.data(), s.size()}; }

std::string zstdCompress(const std::string& content) {
  std::string out(ZSTD_compressBound(content.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), content.data(), content.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::string flat(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asChars();
  return std::string(bytes.begin(), bytes.size());
}

std::string jobStartedMessage(const char* magic, uint32_t version) {
  capnp::MallocMessageBuilder message;
  auto started = message.initRoot<schema::Event>().initJobStarted();
  started.setMagic(magic);
  started.setFormatVersion(version);
  started.setJobId("01HZX5K3Q8V6W2N4M7P9R1T3Y5");
  return flat(message);
}

std::string outputMessage() {
  capnp::MallocMessageBuilder message;
  message.initRoot<schema::Event>().initOutput().setElapsedNs(1);
  return flat(message);
}

// open() and tryOpen() refuse with one line naming the path (tryOpen is
// empty only for a file that is not there); openIfReadable() says nullptr.
void expectRefused(const std::filesystem::path& path, const std::string& why) {
  try {
    EventReader::open(path);
    ADD_FAILURE() << "opened " << path << " (" << why << ")";
  } catch (const NotAnEventsFile& e) {
    EXPECT_THAT(e.what(), HasSubstr(path.string())) << why;
    EXPECT_THAT(e.what(), Not(HasSubstr("\n"))) << why;
    EXPECT_THAT(e.what(), HasSubstr(why));
  }
  EXPECT_THROW(EventReader::tryOpen(path), NotAnEventsFile) << why;
  EXPECT_EQ(EventReader::openIfReadable(path), nullptr) << why;
}

TEST(EventReader, TryOpenIsEmptyOnlyForAFileThatIsNotThere) {
  TempDir dir;
  EXPECT_EQ(EventReader::tryOpen(dir / "absent.bin.zst"), nullptr);
  EXPECT_EQ(EventReader::openIfReadable(dir / "absent.bin.zst"), nullptr);
  // Unreadable is not absent: tryOpen says why instead of "nothing here".
  writeFile(dir / "empty", "");
  EXPECT_THROW(EventReader::tryOpen(dir / "empty"), NotAnEventsFile);
}

TEST(EventReader, RefusesAnEmptyFile) {
  TempDir dir;
  writeFile(dir / "empty", "");
  expectRefused(dir / "empty", "empty file");
}

TEST(EventReader, RefusesAPlainZstdFile) {
  TempDir dir;
  writeFile(dir / "log.zst", zstdCompress("just a compressed build log\nwith lines\n"));
  expectRefused(dir / "log.zst", "not an events file");
  // A zstd-compressed empty file is a valid zstd stream too.
  writeFile(dir / "empty.zst", zstdCompress(""));
  expectRefused(dir / "empty.zst", "not an events file");
}

TEST(EventReader, RefusesZstdCapnpStreamsThatAreNotOurs) {
  TempDir dir;
  writeFile(dir / "output-first", zstdCompress(outputMessage() + jobStartedMessage("jobtape-events", 1)));
  expectRefused(dir / "output-first", "not a jobStarted event");
  writeFile(dir / "bad-magic", zstdCompress(jobStartedMessage("someone-else", 1)));
  expectRefused(dir / "bad-magic", "magic");
  writeFile(dir / "future", zstdCompress(jobStartedMessage("jobtape-events", 2)));
  expectRefused(dir / "future", "format version 2 is newer");
  writeFile(dir / "crowded", zstdCompress(jobStartedMessage("jobtape-events", 1) + outputMessage()));
  expectRefused(dir / "crowded", "more than the job description");
}

TEST(EventReader, RefusesACapnpStreamWithoutZstd) {
  TempDir dir;
  writeFile(dir / "raw.bin", jobStartedMessage("jobtape-events", 1) + outputMessage());
  expectRefused(dir / "raw.bin", "uncompressed Cap'n Proto stream");
}

TEST(EventReader, RefusesADirectory) {
  TempDir dir;
  expectRefused(dir.path(), "is a directory");
}

TEST(EventReader, OpenRefusesAMissingFile) {
  TempDir dir;
  try {
    EventReader::open(dir / "missing.bin.zst");
    ADD_FAILURE() << "opened a missing file";
  } catch (const NotAnEventsFile& e) {
    EXPECT_THAT(e.what(), HasSubstr((dir / "missing.bin.zst").string()));
    EXPECT_THAT(e.what(), HasSubstr("No such file"));
  }
}

TEST(EventReader, RefusesATextFile) {
  TempDir dir;
  writeFile(dir / "notes.txt", "these are not events\n");
  expectRefused(dir / "notes.txt", "does not start with a zstd frame");
}

TEST(EventReader, ReadsAFileWhileItIsBeingWritten) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  auto writer = EventWriter::create(path, sampleDescription());
  auto reader = EventReader::open(path);
  EXPECT_FALSE(reader->next().has_value());
  ASSERT_TRUE(reader->damage().has_value());  // no jobFinished (yet)

  writer->output(sandbox::Stream::stdout_, 1, bytesOf("first\n"));
  writer->flush();
  auto first = reader->next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->output.bytes, "first\n");
  EXPECT_FALSE(reader->damage().has_value());

  writer->output(sandbox::Stream::stdout_, 2, bytesOf("second\n"));
  writer->finish(exitedWith(0));
  auto rest = readAll(*reader);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].output.bytes, "second\n");
  EXPECT_EQ(rest[1].kind, Event::Kind::jobFinished);
  EXPECT_FALSE(reader->damage().has_value());
  EXPECT_FALSE(reader->next().has_value());
}

TEST(EventReader, FollowsAFileUntilJobFinished) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  auto writer = EventWriter::create(path, sampleDescription());
  auto reader = EventReader::open(path);

  std::vector<Event> seen;
  std::atomic<bool> gaveUp{false};
  std::thread follower([&] {
    const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    auto stop = [&] {
      gaveUp = std::chrono::steady_clock::now() > giveUp;  // a hang guard only
      return gaveUp.load();
    };
    while (auto event = reader->nextFollowing(stop)) seen.push_back(std::move(*event));
  });
  for (int i = 0; i < 5; ++i) {
    writer->output(sandbox::Stream::stdout_, i, bytesOf("line " + std::to_string(i) + "\n"));
    if (i % 2 == 0) writer->flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  writer->processExit({100, 1, true, 0, 0});
  writer->finish(exitedWith(0));
  follower.join();

  EXPECT_FALSE(gaveUp.load()) << "following did not stop at jobFinished";
  ASSERT_EQ(seen.size(), 7u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(seen[i].output.bytes, "line " + std::to_string(i) + "\n");
  EXPECT_EQ(seen[5].kind, Event::Kind::processExit);
  EXPECT_EQ(seen[6].kind, Event::Kind::jobFinished);
  EXPECT_FALSE(reader->damage().has_value());
}

TEST(EventReader, StopFollowingEndsTheWaitForAnUnfinishedFile) {
  TempDir dir;
  const auto path = dir / "events.bin.zst";
  auto writer = EventWriter::create(path, sampleDescription());
  writer->output(sandbox::Stream::stderr_, 1, bytesOf("still running\n"));
  writer->flush();
  auto reader = EventReader::open(path);
  auto event = reader->nextFollowing([] { return false; });
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->output.bytes, "still running\n");

  int asked = 0;
  auto none = reader->nextFollowing([&] { return ++asked >= 3; });
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(asked, 3);
  EXPECT_FALSE(reader->damage().has_value()) << "a file still being written is not damaged";
  writer->finish(exitedWith(0));
}

}  // namespace
}  // namespace jobtape::recorder
