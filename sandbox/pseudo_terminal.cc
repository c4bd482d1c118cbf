#include "sandbox/pseudo_terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace jobtape::sandbox {

namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

PtyPair PtyPair::open(int sizeFrom) {
  PtyPair pair;
  pair.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pair.master) fail("posix_openpt");
  if (::grantpt(pair.master.get()) < 0 || ::unlockpt(pair.master.get()) < 0) fail("unlockpt");
  char name[128];
  if (::ptsname_r(pair.master.get(), name, sizeof name) != 0) fail("ptsname");
  pair.slave.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pair.slave) fail("open pty slave");
  struct winsize size{};
  if (::isatty(sizeFrom) && ::ioctl(sizeFrom, TIOCGWINSZ, &size) == 0) ::ioctl(pair.master.get(), TIOCSWINSZ, &size);
  return pair;
}

TerminalRelay::TerminalRelay(int master, int in, int out) : master_(master), in_(in), out_(out) {
  if (::isatty(in_) && ::tcgetattr(in_, &saved_) == 0) {
    struct termios raw = saved_;
    ::cfmakeraw(&raw);
    rawMode_ = ::tcsetattr(in_, TCSANOW, &raw) == 0;
  }
}

TerminalRelay::~TerminalRelay() {
  if (rawMode_) ::tcsetattr(in_, TCSANOW, &saved_);
}

bool TerminalRelay::forwardInput() {
  char buf[4096];
  ssize_t n = ::read(in_, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    // The job's line discipline turns VEOF into end-of-file for its reader.
    struct termios t{};
    char eof = ::tcgetattr(master_, &t) == 0 ? static_cast<char>(t.c_cc[VEOF]) : '\x04';
    writeAll(master_, std::string_view(&eof, 1));
    inputOpen_ = false;
    return false;
  }
  writeAll(master_, std::string_view(buf, static_cast<size_t>(n)));
  return true;
}

void TerminalRelay::writeOutput(const char* data, size_t size) { writeAll(out_, std::string_view(data, size)); }

void TerminalRelay::forwardWindowSize() {
  winch_.drain();
  struct winsize size{};
  int from = ::isatty(in_) ? in_ : out_;
  if (::ioctl(from, TIOCGWINSZ, &size) == 0) ::ioctl(master_, TIOCSWINSZ, &size);
}

}  // namespace jobtape::sandbox
