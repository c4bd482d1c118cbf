// Reads an events file (format: see the design comment in event_writer.cc).
//
// Files are untrusted: they may be cut short, damaged, or not ours at all.
// The limits below keep a hostile file from choosing our memory use or
// sending Cap'n Proto's lazy pointer checks into a loop, so that reading any
// file costs at most a constant (about 3 frames' worth: ~100 MiB) plus what
// the caller keeps, and time proportional to its decompressed size:
//  - zstd windows above 16 MiB are refused (the writer uses 2 MiB);
//  - a frame's content is at most 32 MiB (the writer's are at most 4 MiB) and one
//    message at most 16 MiB (the largest real one is a description with a
//    big environment);
//  - Cap'n Proto reads each message with a traversal limit proportional to
//    its size (8 words per word of message, plus 4 Ki words: a list of
//    empty elements, which takes no room, still costs a word each) and a
//    nesting limit of 64; its kj::Exceptions become Damage, never crashes;
//  - no list of an event holds more than kMaxListEntries (65,536) entries
//    (events_codec.h): a longer one is damage before one entry is copied;
//  - a frame's messages are checked when the frame ends and decoded one at
//    a time as they are handed out: a frame of many messages never exists
//    decoded all at once.
// A frame's messages are handed out only once the frame ended, zstd checked
// its checksum and every message decoded, so a damaged frame yields no
// events at all.
#include "recorder/events/event_reader.h"

#include <capnp/serialize.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include <kj/exception.h>

#include "recorder/events/events_codec.h"
#include "recorder/events/events_fd.h"
#include "recorder/events/events_file_watch.h"
#include "recorder/events/zstd_context.h"

namespace jobtape::recorder {
namespace {

constexpr int kWindowLogMax = 24;
constexpr size_t kMaxFrameBytes = size_t{32} << 20;
constexpr size_t kMaxMessageWords = (size_t{16} << 20) / sizeof(capnp::word);
constexpr size_t kInitialFrameBytes = size_t{256} << 10;
constexpr std::chrono::milliseconds kFollowPoll{100};

capnp::ReaderOptions untrustedOptions(size_t messageWords) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = messageWords * 8 + 4096;
  options.nestingLimit = 64;
  return options;
}

// Something in the data is wrong; what() is the one-line reason.
class BadData : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string oneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

class ReaderImpl final : public EventReader {
 public:
  ReaderImpl(std::filesystem::path path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)), dctx_(makeDecompressor(kWindowLogMax)),
        in_(ZSTD_DStreamInSize()), frame_(kj::heapArray<capnp::word>(kInitialFrameBytes / 8)) {}

  // Decodes frame 1 and checks it is our description. Throws NotAnEventsFile.
  void readDescription();

  const JobDescription& description() const override { return description_; }
  std::optional<Event> next() override;
  std::optional<Event> nextFollowing(const std::function<bool()>& stopFollowing) override;
  std::optional<Damage> damage() const override { return damage_; }

 private:
  enum class Status { frame, needData };

  Status decodeFrame();  // throws BadData
  bool fill();
  void growFrame();
  void splitMessages();
  Event decodeMessage(kj::ArrayPtr<const capnp::word> words);
  // Where one message of the current frame lies in frame_, in words.
  struct Span {
    size_t offset;
    size_t words;
  };
  void checkDescription(schema::Event::Reader root) const;
  void endFrame();
  Event pop();

  const std::filesystem::path path_;
  UniqueFd fd_;
  ZstdDCtx dctx_;
  std::vector<char> in_;  // compressed bytes read, [inPos_, inEnd_) not yet taken
  size_t inPos_ = 0;
  size_t inEnd_ = 0;
  uint64_t consumed_ = 0;    // compressed bytes zstd has taken so far
  uint64_t frameStart_ = 0;  // compressed offset of the current frame
  kj::Array<capnp::word> frame_;  // the current frame's content so far
  size_t frameBytes_ = 0;
  size_t scanned_ = 0;       // bytes of frame_ split into whole messages
  std::vector<Span> pending_;  // messages of the current, unfinished frame
  std::deque<Span> ready_;     // messages of the ended, checked frame, still in frame_
  bool inDescription_ = true;
  bool finished_ = false;
  bool broken_ = false;  // hard damage: the zstd state cannot go on
  std::optional<Damage> damage_;
  JobDescription description_;
  std::unique_ptr<FileWatch> watch_;
};

bool ReaderImpl::fill() {
  for (;;) {
    ssize_t n = ::read(fd_.get(), in_.data(), in_.size());
    if (n > 0) {
      inPos_ = 0;
      inEnd_ = static_cast<size_t>(n);
      return true;
    }
    if (n == 0) return false;
    if (errno != EINTR) throw BadData(fmt::format("read failed: {}", std::strerror(errno)));
  }
}

void ReaderImpl::growFrame() {
  const size_t bytes = frame_.size() * sizeof(capnp::word);
  if (bytes >= kMaxFrameBytes) {
    throw BadData(fmt::format("a zstd frame holds more than {} MiB", kMaxFrameBytes >> 20));
  }
  auto bigger = kj::heapArray<capnp::word>(std::min(bytes * 2, kMaxFrameBytes) / 8);
  std::memcpy(bigger.begin(), frame_.begin(), frameBytes_);
  frame_ = kj::mv(bigger);
}

ReaderImpl::Status ReaderImpl::decodeFrame() {
  for (;;) {
    if (inPos_ == inEnd_ && !fill()) return Status::needData;
    if (frameBytes_ == frame_.size() * sizeof(capnp::word)) growFrame();
    ZSTD_inBuffer in{in_.data(), inEnd_, inPos_};
    ZSTD_outBuffer out{frame_.begin(), frame_.size() * sizeof(capnp::word), frameBytes_};
    const size_t rc = ZSTD_decompressStream(dctx_.get(), &out, &in);
    consumed_ += in.pos - inPos_;
    inPos_ = in.pos;
    frameBytes_ = out.pos;
    if (ZSTD_isError(rc)) throw BadData(fmt::format("zstd: {}", ZSTD_getErrorName(rc)));
    splitMessages();
    if (rc == 0) {  // zstd stops exactly at the end of a frame
      endFrame();
      return Status::frame;
    }
  }
}

void ReaderImpl::splitMessages() {
  for (;;) {
    const size_t available = (frameBytes_ - scanned_) / sizeof(capnp::word);
    if (available == 0) return;
    kj::ArrayPtr<const capnp::word> rest(frame_.begin() + scanned_ / sizeof(capnp::word), available);
    const size_t need = capnp::expectedSizeInWordsFromPrefix(rest);
    if (need > kMaxMessageWords) {
      throw BadData(inDescription_ ? "the data is not a Cap'n Proto message stream"
                                   : "a message claims more than 16 MiB");
    }
    if (need > available) return;
    decodeMessage(rest.slice(0, need));  // checked now, decoded again when handed out
    pending_.push_back(Span{scanned_ / sizeof(capnp::word), need});
    scanned_ += need * sizeof(capnp::word);
  }
}

void ReaderImpl::checkDescription(schema::Event::Reader root) const {
  if (!pending_.empty()) throw BadData("the first zstd frame holds more than the job description");
  if (!root.isJobStarted()) throw BadData("the first message is not a jobStarted event");
  auto started = root.getJobStarted();
  if (started.getMagic() != kj::StringPtr(kEventsMagic)) {
    throw BadData(fmt::format("jobStarted.magic is not \"{}\"", kEventsMagic));
  }
  if (started.getFormatVersion() > kEventsFormatVersion) {
    throw BadData(fmt::format("format version {} is newer than this jobtape reads ({})",
                              started.getFormatVersion(), kEventsFormatVersion));
  }
}

Event ReaderImpl::decodeMessage(kj::ArrayPtr<const capnp::word> words) {
  try {
    capnp::FlatArrayMessageReader message(words, untrustedOptions(words.size()));
    auto root = message.getRoot<schema::Event>();
    if (inDescription_) checkDescription(root);
    return decodeEvent(root);
  } catch (const BadData&) {
    throw;
  } catch (const kj::Exception& e) {
    throw BadData(oneLine("bad message: " + std::string(e.getDescription().cStr())));
  } catch (const std::exception& e) {
    throw BadData(oneLine(std::string("bad message: ") + e.what()));
  }
}

void ReaderImpl::endFrame() {
  if (scanned_ != frameBytes_) throw BadData("a zstd frame ends inside a message");
  // frame_ keeps the frame's bytes until its messages were handed out: the
  // next frame is decoded only once ready_ is empty.
  ready_.assign(pending_.begin(), pending_.end());
  pending_.clear();
  frameBytes_ = 0;
  scanned_ = 0;
  frameStart_ = consumed_;
}

void ReaderImpl::readDescription() {
  Status status;
  try {
    status = decodeFrame();
  } catch (const BadData& e) {
    throw NotAnEventsFile(fmt::format("{}: not an events file: {}", path_.string(), e.what()));
  }
  if (status == Status::needData) {
    throw NotAnEventsFile(fmt::format(
        "{}: not a readable events file: it ends inside the job description (byte {})",
        path_.string(), consumed_));
  }
  if (ready_.size() != 1) {
    throw NotAnEventsFile(
        fmt::format("{}: not an events file: the first zstd frame holds no message", path_.string()));
  }
  description_ = std::move(pop().started);
  inDescription_ = false;
}

Event ReaderImpl::pop() {
  Span span = ready_.front();
  ready_.pop_front();
  // Checked when its frame ended: decoding it again cannot fail.
  Event event = decodeMessage(kj::ArrayPtr<const capnp::word>(frame_.begin() + span.offset, span.words));
  if (event.kind == Event::Kind::jobFinished) {
    finished_ = true;  // the last event: anything after it is not the job's
    ready_.clear();
  }
  return event;
}

std::optional<Event> ReaderImpl::next() {
  for (;;) {
    if (!ready_.empty()) return pop();
    if (finished_ || broken_) return std::nullopt;
    Status status;
    try {
      status = decodeFrame();
    } catch (const BadData& e) {
      broken_ = true;
      damage_ = Damage{frameStart_, fmt::format("damaged data: {}", e.what())};
      return std::nullopt;
    }
    if (status == Status::needData) {
      // Soft: if the file grows later, the next call carries on from here.
      damage_ = Damage{frameStart_, consumed_ > frameStart_
                                        ? "the file ends inside a zstd frame (cut short, or still being written)"
                                        : "the file ends before jobFinished (the writer stopped, or still runs)"};
      return std::nullopt;
    }
    damage_.reset();
  }
}

std::optional<Event> ReaderImpl::nextFollowing(const std::function<bool()>& stopFollowing) {
  for (;;) {
    if (auto event = next()) return event;
    if (finished_ || broken_) return std::nullopt;
    if (stopFollowing && stopFollowing()) {
      // Take what the writer wrote before it was told to stop.
      auto last = next();
      if (!broken_) damage_.reset();
      return last;
    }
    if (!watch_) watch_ = std::make_unique<FileWatch>(path_);
    watch_->wait(kFollowPoll);
  }
}

uint32_t loadLe32(const unsigned char* at) {
  return uint32_t{at[0]} | uint32_t{at[1]} << 8 | uint32_t{at[2]} << 16 | uint32_t{at[3]} << 24;
}

// Refuses what is clearly not an events file before any decoding.
void checkFileKind(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw NotAnEventsFile(fmt::format("{}: cannot stat: {}", path.string(), std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    throw NotAnEventsFile(fmt::format("{}: is a directory, not an events file", path.string()));
  }
  if (!S_ISREG(st.st_mode)) {
    throw NotAnEventsFile(fmt::format("{}: not a regular file, not an events file", path.string()));
  }
  if (st.st_size == 0) {
    throw NotAnEventsFile(fmt::format("{}: empty file, not an events file", path.string()));
  }
  unsigned char magic[4];
  if (::pread(fd, magic, sizeof magic, 0) != static_cast<ssize_t>(sizeof magic)) {
    throw NotAnEventsFile(fmt::format("{}: too short to be an events file", path.string()));
  }
  if (loadLe32(magic) == 0) {
    throw NotAnEventsFile(fmt::format(
        "{}: not an events file: an uncompressed Cap'n Proto stream (events files are zstd-compressed)",
        path.string()));
  }
  if (loadLe32(magic) != ZSTD_MAGICNUMBER) {
    throw NotAnEventsFile(
        fmt::format("{}: not an events file: it does not start with a zstd frame", path.string()));
  }
}

}  // namespace

std::unique_ptr<EventReader> EventReader::open(const std::filesystem::path& path) {
  auto reader = tryOpen(path);
  if (!reader) throw NotAnEventsFile(fmt::format("{}: cannot open: {}", path.string(), std::strerror(ENOENT)));
  return reader;
}

std::unique_ptr<EventReader> EventReader::tryOpen(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT) return nullptr;
  if (!fd) throw NotAnEventsFile(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  checkFileKind(fd.get(), path);
  auto reader = std::make_unique<ReaderImpl>(path, std::move(fd));
  reader->readDescription();
  return reader;
}

std::unique_ptr<EventReader> EventReader::openIfReadable(const std::filesystem::path& path) noexcept {
  try {
    return tryOpen(path);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace jobtape::recorder
