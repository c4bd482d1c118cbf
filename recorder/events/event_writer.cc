// The events file (events.bin.zst): one job's whole story.
//
// CONSTRAINTS
//  - One file per job, written by one writer while the job runs, and read by
//    `jobtape show/logs`, debug-shell and people with public tools (zstd and
//    capnp) -- possibly while it is still being written.
//  - Capture must stay cheap. The supervisor drains the job's pipes; if it
//    stalls, the job stalls. So capture calls only copy the bytes into a
//    ready-to-compress message and queue it; a writer thread compresses and
//    writes. The queue is bounded (16 MiB): a job that outruns the
//    compressor is slowed down instead of growing our memory without end.
//  - A crash of jobtape (SIGKILL, OOM killer) must leave a file whose
//    readable prefix is as long as possible and clearly delimited; a crash
//    of the machine must not lose the logs of a failed job.
//  - Files are untrusted when read: copied between machines, cut short,
//    damaged, or crafted. See event_reader.cc for the limits the reader
//    applies; what a writer must keep within them: a zstd frame at most
//    32 MiB of content, a message at most 16 MiB, every list at most
//    kMaxListEntries (65,536) entries (an exec's argv is cut there).
//  - Output dominates the bytes (compiler logs, which zstd shrinks ~10x), so
//    the writer must keep up with `zstd -3` over the same bytes.
//
// BYTE LAYOUT
//   file     := frame1 frame*               zstd frames (RFC 8878) back to back
//   frame1   := zstd frame holding exactly one message: the jobStarted event
//   frame    := zstd frame holding one or more whole messages
//   message  := Cap'n Proto stream framing, unpacked (capnp::writeMessage):
//                 u32 segmentCount-1, u32 segmentWords[segmentCount],
//                 zero padding to 8 bytes, the segments;
//               root struct: schema::Event (recorder/events/events.capnp)
//  - Every frame carries zstd's content checksum, so a damaged frame is
//    detected as a whole. A message never spans two frames.
//  - Concatenated zstd frames are one zstd stream and concatenated stream
//    framed messages are a capnp message stream, so public tools read it:
//      zstd -dc events.bin.zst | capnp decode recorder/events/events.capnp Event
//  - zstd level 3, the zstd command's default.
//
// FRAMING (what a crash can lose)
//  - Frame 1 is compressed, ended and written inside EventWriter::create(),
//    before the job starts: the description is readable while the job runs.
//  - Afterwards a frame ends (ZSTD_e_end, then write(2) of every compressed
//    byte) when
//      * its content would pass 4 MiB with the next message, or reaches it
//        (kFrameMaxInput: why 4, in events_frame_writer.h);
//      * 250 ms have passed since its first message (checked when messages
//        arrive and by a timed wait while idle);
//      * flush() is called (it returns once the frame is written);
//      * finish() is called, or the writer is destroyed without finish().
//    So a SIGKILLed writer loses at most the last 250 ms or 4 MiB of events
//    and everything it had ended is in the kernel's page cache.
//  - Output larger than 1 MiB per call becomes several output events of at
//    most 1 MiB each, with the same elapsedNs. Empty chunks are recorded.
//  - The first processExec event a writer is given is the job's main
//    process (kind spawned); later ones are execs (kind exec).
//  - finish() writes jobFinished, ends the frame and, when the job failed or
//    with Durability::always, fdatasyncs the file and fsyncs its directory
//    before closing. A succeeded job does not pay for the sync: losing its
//    logs to a power cut costs a rerun, losing a failure's logs costs more.
//    A file without jobFinished comes from a writer that died or still runs.
//
// VERSIONING
//  - jobStarted.magic == "jobtape-events" tells our files apart from any
//    other zstd-compressed capnp stream. jobStarted.formatVersion is 1 and is
//    bumped only for a change an old reader would misread; readers refuse
//    versions newer than they know.
//  - Everything else evolves the Cap'n Proto way: fields and union members
//    are only ever appended with new ordinals, never renamed or retyped. Old
//    readers ignore new fields and report new union members as unknown.
//
// RECOVERY
//  - The frame is the unit of trust: a reader returns a frame's messages only
//    once the whole frame decoded and its checksum matched. It returns every
//    message of every good frame before the first incomplete or bad one and
//    reports the compressed offset where that frame starts (Damage).
//  - Nothing is repaired in place: a file is never appended to by a second
//    writer, so a damaged tail simply stays after the readable prefix.
#include "recorder/events/event_writer.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <future>
#include <utility>

#include "recorder/events/events_codec.h"
#include "recorder/events/events_fd.h"
#include "recorder/events/events_frame_writer.h"
#include "recorder/events/reusable_threads.h"

namespace jobtape::recorder {
namespace {

constexpr size_t kQueueMaxBytes = size_t{16} << 20;

struct Item {
  enum class Kind { message, flush, stop };
  Kind kind = Kind::message;
  EncodedEvent message;
};

class WriterImpl final : public EventWriter {
 public:
  WriterImpl(std::filesystem::path path, UniqueFd fd, Durability durability)
      : path_(std::move(path)), fd_(std::move(fd)), durability_(durability),
        frames_(fd_.get(), path_) {}
  ~WriterImpl() override;

  // Writes frame 1 synchronously, then starts the writer thread.
  void start(const JobDescription& description);

  void output(sandbox::Stream stream, uint64_t elapsedNs, std::span<const char> bytes) override;
  void exec(const sandbox::ExecRecord& exec) override;
  void tracingIncomplete(const sandbox::TracingShortfall& shortfall) override;
  void processExit(const sandbox::ProcessExitRecord& exit,
                   const sandbox::ResourceUsage* rusage) override;
  void finish(const sandbox::RunResult& result) override;
  void flush() override;

 private:
  uint64_t push(Item item);
  void waitFor(uint64_t ticket);
  void stopThread();
  void checkOpen() const;
  void run() noexcept;
  bool process(Item& item);
  template <typename Step>
  void guarded(Step&& step);

  const std::filesystem::path path_;
  UniqueFd fd_;
  const Durability durability_;
  FrameWriter frames_;  // the writer thread's alone once it runs
  bool failed_ = false;  // writer thread: drop everything after an error
  bool spawnSeen_ = false;
  bool finished_ = false;

  std::mutex mu_;
  std::condition_variable wake_;      // the writer thread: work arrived
  std::condition_variable progress_;  // callers: queue space, tickets done
  std::deque<Item> queue_;
  size_t queuedBytes_ = 0;
  uint64_t requested_ = 0;  // flush/stop items queued so far
  uint64_t completed_ = 0;  // flush/stop items processed so far
  std::exception_ptr error_;
  std::future<void> threadDone_;  // run() on a thread of ReusableThreads
};

WriterImpl::~WriterImpl() {
  // Without finish() the file stays without jobFinished, but whatever was
  // given is ended into a frame so that it stays readable.
  if (threadDone_.valid()) stopThread();
}

void WriterImpl::start(const JobDescription& description) {
  frames_.add(encodeJobStarted(description));
  frames_.endFrame();
  threadDone_ = ReusableThreads::shared().run([this] { run(); });
}

void WriterImpl::checkOpen() const {
  if (finished_) throw std::logic_error(path_.string() + ": events file already finished");
}

uint64_t WriterImpl::push(Item item) {
  std::unique_lock lock(mu_);
  const size_t bytes = item.message.size();
  progress_.wait(lock, [&] { return queuedBytes_ == 0 || queuedBytes_ + bytes <= kQueueMaxBytes; });
  queuedBytes_ += bytes;
  uint64_t ticket = item.kind == Item::Kind::message ? 0 : ++requested_;
  queue_.push_back(std::move(item));
  lock.unlock();
  wake_.notify_one();
  return ticket;
}

void WriterImpl::waitFor(uint64_t ticket) {
  std::unique_lock lock(mu_);
  progress_.wait(lock, [&] { return completed_ >= ticket; });
  if (error_) std::rethrow_exception(error_);
}

void WriterImpl::stopThread() {
  push({Item::Kind::stop, {}});
  threadDone_.get();  // run() has returned: nothing of ours is touched after
}

void WriterImpl::output(sandbox::Stream stream, uint64_t elapsedNs, std::span<const char> bytes) {
  checkOpen();
  size_t at = 0;
  do {
    const size_t size = std::min(kMaxOutputChunk, bytes.size() - at);
    push({Item::Kind::message, encodeOutput(stream, elapsedNs, bytes.subspan(at, size))});
    at += size;
  } while (at < bytes.size());
}

void WriterImpl::exec(const sandbox::ExecRecord& exec) {
  checkOpen();
  push({Item::Kind::message, encodeExec(exec, !spawnSeen_)});
  spawnSeen_ = true;
}

void WriterImpl::processExit(const sandbox::ProcessExitRecord& exit,
                             const sandbox::ResourceUsage* rusage) {
  checkOpen();
  push({Item::Kind::message, encodeProcessExit(exit, rusage)});
}

void WriterImpl::tracingIncomplete(const sandbox::TracingShortfall& shortfall) {
  checkOpen();
  push({Item::Kind::message, encodeTracingIncomplete(shortfall)});
}

void WriterImpl::flush() {
  checkOpen();
  waitFor(push({Item::Kind::flush, {}}));
}

void WriterImpl::finish(const sandbox::RunResult& result) {
  checkOpen();
  push({Item::Kind::message, encodeJobFinished(result)});
  stopThread();
  finished_ = true;
  std::exception_ptr error = error_;  // run() has returned: no lock needed
  if (!error) {
    try {
      if (durability_ == Durability::always || !result.succeeded()) {
        syncFileAndDirectory(fd_.get(), path_);
      }
      closeReporting(fd_, path_);
    } catch (...) {
      error = std::current_exception();
    }
  }
  fd_.reset();
  if (error) std::rethrow_exception(error);
}

template <typename Step>
void WriterImpl::guarded(Step&& step) {
  if (failed_) return;
  try {
    step();
  } catch (...) {
    failed_ = true;
    std::lock_guard lock(mu_);
    if (!error_) error_ = std::current_exception();
  }
}

// Returns true for the stop item.
bool WriterImpl::process(Item& item) {
  switch (item.kind) {
    case Item::Kind::message:
      guarded([&] {
        frames_.add(item.message);
        if (frames_.frameOpen() && FrameWriter::Clock::now() >= frames_.frameDeadline()) {
          frames_.endFrame();
        }
      });
      return false;
    case Item::Kind::flush:
      guarded([&] { frames_.endFrame(); });
      return false;
    case Item::Kind::stop:
      guarded([&] { frames_.endFrame(); });
      return true;
  }
  return false;
}

void WriterImpl::run() noexcept {
  std::deque<Item> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    while (queue_.empty()) {
      if (!frames_.frameOpen() || failed_) {
        wake_.wait(lock);
      } else if (wake_.wait_until(lock, frames_.frameDeadline()) == std::cv_status::timeout &&
                 queue_.empty()) {
        lock.unlock();
        guarded([&] { frames_.endFrame(); });
        lock.lock();
      }
    }
    batch.swap(queue_);
    queuedBytes_ = 0;
    lock.unlock();
    progress_.notify_all();
    uint64_t tickets = 0;
    bool stop = false;
    for (Item& item : batch) {
      if (item.kind != Item::Kind::message) ++tickets;
      stop = process(item) || stop;
      item.message = {};  // free each message as soon as it is compressed
    }
    batch.clear();
    lock.lock();
    completed_ += tickets;
    if (tickets > 0) progress_.notify_all();
    if (stop) return;
  }
}

}  // namespace

std::unique_ptr<EventWriter> EventWriter::create(const std::filesystem::path& path,
                                                 const JobDescription& description,
                                                 Durability durability) {
  UniqueFd fd = createExclusive(path);
  try {
    auto writer = std::make_unique<WriterImpl>(path, std::move(fd), durability);
    writer->start(description);
    return writer;
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);  // a half-written description helps nobody
    throw;
  }
}

}  // namespace jobtape::recorder
