// The small value types of the public API: errors and cancel tokens.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <jobtape/recorder.h>

namespace jobtape {

Error::Error(Kind kind, const std::string& message, std::string field, std::error_code code,
             std::exception_ptr cause)
    : std::runtime_error(message),
      kind_(kind),
      field_(std::move(field)),
      code_(code),
      cause_(std::move(cause)) {}

const char* errorKindName(Error::Kind kind) noexcept {
  switch (kind) {
    case Error::Kind::store: return "store";
    case Error::Kind::recipe: return "recipe";
    case Error::Kind::sandbox: return "sandbox";
    case Error::Kind::io: return "io";
    case Error::Kind::invalidArgument: return "invalid-argument";
  }
  return "unknown";
}

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
