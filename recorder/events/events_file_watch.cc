#include "recorder/events/events_file_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace jobtape::recorder {

FileWatch::FileWatch(const std::filesystem::path& path) noexcept
    : inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (inotify_ && ::inotify_add_watch(inotify_.get(), path.c_str(),
                                      IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF) < 0) {
    inotify_.reset();
  }
}

void FileWatch::wait(std::chrono::milliseconds timeout) noexcept {
  pollfd fd{inotify_.get(), POLLIN, 0};  // poll ignores a negative fd: a plain sleep
  if (::poll(&fd, 1, static_cast<int>(timeout.count())) > 0 && (fd.revents & POLLIN)) {
    alignas(inotify_event) char buffer[4096];
    while (::read(inotify_.get(), buffer, sizeof buffer) > 0) {
    }
  }
}

}  // namespace jobtape::recorder
