#include "recorder/events/events_frame_writer.h"

#include <utility>

#include "recorder/events/events_fd.h"

namespace jobtape::recorder {

FrameWriter::FrameWriter(int fd, std::filesystem::path path)
    : fd_(fd), path_(std::move(path)), cctx_(makeCompressor(kEventsZstdLevel)) {}

void FrameWriter::add(const EncodedEvent& message) {
  if (!input_.empty() && input_.size() + message.size() > kFrameMaxInput) endFrame();
  if (input_.empty()) frameOpenedAt_ = Clock::now();
  // Zero-length messages do not exist (the segment table alone is 8 bytes),
  // so an open frame always has input.
  input_.insert(input_.end(), message.data(), message.data() + message.size());
  if (input_.size() >= kFrameMaxInput) endFrame();
}

void FrameWriter::endFrame() {
  if (input_.empty()) return;
  out_.resize(ZSTD_compressBound(input_.size()));
  size_t size = checkZstd(ZSTD_compress2(cctx_.get(), out_.data(), out_.size(), input_.data(), input_.size()),
                          "zstd compress");
  writeAll(fd_, out_.data(), size, path_);
  input_.clear();
  ++framesEnded_;
}

}  // namespace jobtape::recorder
