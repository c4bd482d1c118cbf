#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <system_error>

#include "sandbox/runner.h"

namespace jobtape::sandbox {

Cancellation::Cancellation() {
  eventFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (eventFd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Cancellation::~Cancellation() {
  if (eventFd_ >= 0) ::close(eventFd_);
}

// Async-signal-safe: an atomic store and a write(2). The first signal wins so
// that a second Ctrl-C does not change what the outcome reports.
void Cancellation::request(int signal) noexcept {
  int expected = 0;
  signal_.compare_exchange_strong(expected, signal > 0 ? signal : SIGTERM);
  uint64_t one = 1;
  int saved = errno;
  [[maybe_unused]] ssize_t n = ::write(eventFd_, &one, sizeof one);
  errno = saved;
}

}  // namespace jobtape::sandbox
