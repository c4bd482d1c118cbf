#include "sandbox/input_relay.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace jobtape::sandbox {

namespace {

constexpr size_t kReadBytes = 16 * 1024;

// write(2) with SIGPIPE held back for this thread: a pipe the job closed
// answers EPIPE, and the signal it raised is taken off again unless one was
// pending before.
ssize_t writeWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipeOnly, old;
  ::sigemptyset(&pipeOnly);
  ::sigaddset(&pipeOnly, SIGPIPE);
  sigset_t pendingBefore;
  ::sigpending(&pendingBefore);
  ::pthread_sigmask(SIG_BLOCK, &pipeOnly, &old);
  ssize_t n = ::write(fd, data, size);
  int saved = errno;
  if (n < 0 && saved == EPIPE && !::sigismember(&pendingBefore, SIGPIPE)) {
    struct timespec zero{};
    (void)::sigtimedwait(&pipeOnly, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

}  // namespace

InputRelay::InputRelay(int source, UniqueFd pipe) : source_(source), pipe_(std::move(pipe)) {
  int flags = ::fcntl(pipe_.get(), F_GETFL);
  if (flags >= 0) ::fcntl(pipe_.get(), F_SETFL, flags | O_NONBLOCK);
}

InputRelay::InputRelay(int source) : source_(source), intoTerminal_(true) {}

void InputRelay::setTerminalTarget(int master) {
  if (!intoTerminal_) return;
  terminal_ = master;
  int flags = master >= 0 ? ::fcntl(master, F_GETFL) : -1;
  if (flags >= 0) ::fcntl(master, F_SETFL, flags | O_NONBLOCK);
}

int InputRelay::readableFd() const {
  if (!sourceOpen_ || !pending_.empty() || eofPending_ || target() < 0) return -1;
  return source_;
}

int InputRelay::writableFd() const {
  if (pending_.empty() && !eofPending_) return -1;
  return target();
}

void InputRelay::onReadable() {
  char buffer[kReadBytes];
  ssize_t n = ::read(source_, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) return endOfInput();
  pending_.assign(buffer, static_cast<size_t>(n));
  flush();
}

void InputRelay::onWritable() { flush(); }

void InputRelay::flush() {
  while (!pending_.empty()) {
    ssize_t n = writeWithoutSigpipe(target(), pending_.data(), pending_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;  // poll for POLLOUT
    if (n <= 0) return stop();             // the job closed its end
    pending_.erase(0, static_cast<size_t>(n));
  }
  if (eofPending_) endOfInput();
}

void InputRelay::endOfInput() {
  sourceOpen_ = false;
  if (!intoTerminal_) {
    pipe_.reset();
    return;
  }
  struct termios t{};
  char eof = ::tcgetattr(terminal_, &t) == 0 ? static_cast<char>(t.c_cc[VEOF]) : '\x04';
  ssize_t n = writeWithoutSigpipe(terminal_, &eof, 1);
  eofPending_ = n < 0 && errno == EAGAIN;
}

void InputRelay::stop() {
  sourceOpen_ = false;
  eofPending_ = false;
  pending_.clear();
  pipe_.reset();
}

}  // namespace jobtape::sandbox
