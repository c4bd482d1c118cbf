// Waits for a file that is still being written to change, so a reader can
// follow it: inotify when the kernel offers it, a plain timed sleep when not
// (e.g. out of inotify instances). Either way the wait is bounded, so a
// change that slips in before the watch exists costs one timeout at most.
#pragma once

#include <chrono>
#include <filesystem>

#include "recorder/events/events_fd.h"

namespace jobtape::recorder {

class FileWatch {
 public:
  explicit FileWatch(const std::filesystem::path& path) noexcept;

  // Returns once the file was modified or closed by a writer, or after
  // `timeout`, whichever comes first.
  void wait(std::chrono::milliseconds timeout) noexcept;

 private:
  UniqueFd inotify_;
};

}  // namespace jobtape::recorder
