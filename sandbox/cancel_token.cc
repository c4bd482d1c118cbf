// jobtape::CancelToken (<jobtape/cancel_token.h>). It lives in sandbox/
// because the supervisor polls the token's fd itself: the caller's token is
// what stops the tree, with no copy in between.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <jobtape/cancel_token.h>
#include <jobtape/error.h>

namespace jobtape {

// The eventfd is never read: once written it stays readable, so every job
// polling it (now or later) sees the request. It is created O_CLOEXEC so it
// never reaches a sandboxed process.
CancelToken::CancelToken() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) {
    throw Error(Error::Kind::io, "cannot create the cancel token's eventfd", {},
                std::error_code(errno, std::generic_category()));
  }
}

CancelToken::~CancelToken() {
  if (fd_ >= 0) ::close(fd_);
}

// Async-signal-safe: an atomic exchange and a write(2). The first request
// wins so that a second Ctrl-C does not change what the outcome reports.
void CancelToken::request(int signal) noexcept {
  if (signal <= 0) return;
  int expected = 0;
  if (!signal_.compare_exchange_strong(expected, signal)) return;
  uint64_t one = 1;
  int savedErrno = errno;  // a signal handler must leave errno alone
  [[maybe_unused]] ssize_t written = ::write(fd_, &one, sizeof one);
  errno = savedErrno;
}

}  // namespace jobtape
