#include "recorder/job_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace jobtape::recorder {

JobWatcher::JobWatcher(LockedStore& store, std::string jobId, const CancelToken* token,
                       sandbox::Cancellation& cancellation,
                       std::chrono::milliseconds heartbeatInterval)
    : store_(store),
      jobId_(std::move(jobId)),
      token_(token),
      cancellation_(cancellation),
      interval_(heartbeatInterval),
      stopFd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (stopFd_ < 0) {
    throw Error(Error::Kind::io, "cannot create an eventfd for the job's watcher", {},
                std::error_code(errno, std::generic_category()));
  }
  // A request made before the job started must still stop it.
  if (token_ && token_->requested()) cancellation_.request(token_->signal());
  thread_ = std::thread([this] { loop(); });
}

JobWatcher::~JobWatcher() {
  stop();
  ::close(stopFd_);
}

void JobWatcher::stop() noexcept {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(stopFd_, &one, sizeof one);
  thread_.join();
}

void JobWatcher::loop() noexcept {
  using Clock = std::chrono::steady_clock;
  bool watchToken = token_ != nullptr && !cancellation_.requested();
  auto nextBeat = Clock::now() + interval_;
  for (;;) {
    pollfd fds[2] = {{stopFd_, POLLIN, 0}, {watchToken ? token_->fd() : -1, POLLIN, 0}};
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(nextBeat - Clock::now());
    int ready = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(wait.count(), 0)));
    if (ready < 0 && errno != EINTR) return;
    if (fds[0].revents) return;
    if (watchToken && fds[1].revents) {
      cancellation_.request(token_->signal());
      watchToken = false;
    }
    if (Clock::now() >= nextBeat) {
      try {
        store_.with([&](store::Store& store) { store.heartbeat(jobId_); });
      } catch (...) {
        // A busy or failing store must not stop the job; the next beat retries.
      }
      nextBeat = Clock::now() + interval_;
    }
  }
}

}  // namespace jobtape::recorder
