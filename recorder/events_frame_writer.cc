#include "recorder/events_frame_writer.h"

#include <utility>

#include "recorder/events_fd.h"

namespace jobtape::recorder {

FrameWriter::FrameWriter(int fd, std::filesystem::path path)
    : fd_(fd), path_(std::move(path)), cctx_(makeCompressor(kEventsZstdLevel)),
      out_(ZSTD_CStreamOutSize() * 4) {}

void FrameWriter::drain() {
  writeAll(fd_, out_.data(), outUsed_, path_);
  outUsed_ = 0;
}

void FrameWriter::add(const EncodedEvent& message) {
  if (frameInput_ > 0 && frameInput_ + message.size() > kFrameMaxInput) endFrame();
  if (frameInput_ == 0) frameOpenedAt_ = Clock::now();
  ZSTD_inBuffer in{message.data(), message.size(), 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer out{out_.data(), out_.size(), outUsed_};
    checkZstd(ZSTD_compressStream2(cctx_.get(), &out, &in, ZSTD_e_continue), "zstd compress");
    outUsed_ = out.pos;
    if (outUsed_ == out_.size()) drain();
  }
  // Zero-length messages do not exist (the segment table alone is 8 bytes),
  // so a non-empty frame always has frameInput_ > 0.
  frameInput_ += message.size();
  if (frameInput_ >= kFrameMaxInput) endFrame();
}

void FrameWriter::endFrame() {
  if (frameInput_ == 0) return;
  ZSTD_inBuffer in{nullptr, 0, 0};
  size_t remaining;
  do {
    ZSTD_outBuffer out{out_.data(), out_.size(), outUsed_};
    remaining = checkZstd(ZSTD_compressStream2(cctx_.get(), &out, &in, ZSTD_e_end), "zstd end frame");
    outUsed_ = out.pos;
    if (outUsed_ == out_.size() || remaining == 0) drain();
  } while (remaining != 0);
  frameInput_ = 0;
  ++framesEnded_;
}

}  // namespace jobtape::recorder
