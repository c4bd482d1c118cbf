// Turns encoded event messages into zstd frames on a file descriptor and
// applies the events file's framing policy (see event_writer.cc): a frame
// ends when its content reaches kFrameMaxInput, when it is kFrameMaxAge old,
// or when asked. A message never spans two frames.
//
// A frame's messages are gathered and compressed in one call when it ends,
// so zstd knows the frame's size: a small frame (the description, the few
// events of a short job) gets small match tables instead of level 3's full
// ones, which would be allocated and cleared for every job -- a measurable
// part of a short job's start-up. The gathering costs no extra copy: zstd's
// streaming mode copies its input into a window buffer the same way.
//
// Single-threaded: owned by whichever thread compresses.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "recorder/events/events_codec.h"
#include "recorder/events/zstd_context.h"

namespace jobtape::recorder {

// 4 MiB: zstd -3 works in a 2 MiB window over the whole stream, and a frame
// starts with an empty one. Compiler-like output (bench/run_vs_bwrap.sh's)
// cut into independent frames of 1 MiB came out 10.5 % larger than `zstd -3`
// of the same bytes; of 2 MiB 5.3 %, of 4 MiB 2.0 %, of 8 MiB 0.3 %.
// Memory: a frame's input and its compressed bytes, 8 MiB at most while a
// job writes fast, next to the writer's queue of at most 16 MiB.
inline constexpr size_t kFrameMaxInput = size_t{4} << 20;
inline constexpr std::chrono::milliseconds kFrameMaxAge{250};
// zstd level of the writer: the same trade-off as `zstd -3`, zstd's default.
// No ZSTD_c_nbWorkers: the writer thread already takes compression off the
// capture path, frames of 4 MiB are too small for zstd's own jobs to overlap,
// and its worker hand-off cost ~50% more CPU per byte when measured here
// (bench/events_vs_zstd.sh) -- CPU the job being recorded would rather have.
inline constexpr int kEventsZstdLevel = 3;

class FrameWriter {
 public:
  using Clock = std::chrono::steady_clock;

  FrameWriter(int fd, std::filesystem::path path);

  // Appends one message, ending the current frame first if the message would
  // take it past kFrameMaxInput, and after it once that size is reached.
  // Throws std::system_error / std::runtime_error on write or zstd errors.
  void add(const EncodedEvent& message);
  // Ends the open frame and writes every compressed byte; no-op when no
  // frame is open (the file never holds empty frames).
  void endFrame();

  bool frameOpen() const { return !input_.empty(); }
  // When the open frame must end at the latest.
  Clock::time_point frameDeadline() const { return frameOpenedAt_ + kFrameMaxAge; }
  uint64_t framesEnded() const { return framesEnded_; }

 private:
  int fd_;
  std::filesystem::path path_;
  ZstdCCtx cctx_;
  std::vector<char> input_;  // the open frame's messages
  std::vector<char> out_;
  Clock::time_point frameOpenedAt_{};
  uint64_t framesEnded_ = 0;
};

}  // namespace jobtape::recorder
