#include "sandbox/window_size_watch.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace jobtape::sandbox {

namespace {

std::atomic<bool> watchInUse{false};
std::atomic<int> winchWriteFd{-1};
struct sigaction previousWinch;
int winchPipe[2] = {-1, -1};

void onWinch(int) {
  int saved = errno;
  int fd = winchWriteFd.load();
  char c = 'w';
  if (fd >= 0) [[maybe_unused]] ssize_t n = ::write(fd, &c, 1);
  errno = saved;
}

}  // namespace

WindowSizeWatch::WindowSizeWatch() {
  bool expected = false;
  if (!watchInUse.compare_exchange_strong(expected, true)) return;
  if (::pipe2(winchPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    watchInUse.store(false);
    return;
  }
  winchWriteFd.store(winchPipe[1]);
  struct sigaction action{};
  action.sa_handler = onWinch;
  action.sa_flags = SA_RESTART;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGWINCH, &action, &previousWinch);
  read_ = winchPipe[0];
}

WindowSizeWatch::~WindowSizeWatch() {
  if (read_ < 0) return;
  ::sigaction(SIGWINCH, &previousWinch, nullptr);
  winchWriteFd.store(-1);
  ::close(winchPipe[0]);
  ::close(winchPipe[1]);
  watchInUse.store(false);
}

void WindowSizeWatch::drain() const {
  char buffer[64];
  while (read_ >= 0 && ::read(read_, buffer, sizeof buffer) > 0) {
  }
}

}  // namespace jobtape::sandbox
