#include "sandbox/job_terminal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace jobtape::sandbox {

JobTerminalPlan JobTerminalPlan::forCaller(bool inputOnTerminal) {
  JobTerminalPlan plan;
  plan.inputOnTerminal = inputOnTerminal;
  int from = ::isatty(1) ? 1 : 0;
  if (!::isatty(from) || ::ioctl(from, TIOCGWINSZ, &plan.size) != 0 || plan.size.ws_col == 0) {
    plan.size = {};
    plan.size.ws_row = 24;
    plan.size.ws_col = 80;
  }
  return plan;
}

void configureJobTerminal(int fd, const struct winsize& size) noexcept {
  (void)::ioctl(fd, TIOCSWINSZ, &size);
  struct termios t{};
  if (::ioctl(fd, TCGETS, &t) != 0) return;
  t.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
  t.c_cc[VSUSP] = _POSIX_VDISABLE;
  (void)::ioctl(fd, TCSETS, &t);
}

namespace {

// One terminal of the sandbox's devpts: its slave onto `targets`, its master
// up the channel. Nothing of it stays open in pid 1 but the slave's copies.
StageError openOne(const JobTerminalPlan& plan, int channel, int index, const int* targets, int count) noexcept {
  auto failed = [](int error) { return StageError{SetupStep::jobTerminal, error, -1}; };
  int master = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return failed(errno);
  int unlock = 0;
  int slave = -1;
  if (::ioctl(master, TIOCSPTLCK, &unlock) == 0) slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int error = errno;
    ::close(master);
    return failed(error);
  }
  configureJobTerminal(master, plan.size);
  for (int i = 0; i < count; ++i) {
    if (::dup2(slave, targets[i]) < 0) {
      int error = errno;
      ::close(slave);
      ::close(master);
      return failed(error);
    }
  }
  ::close(slave);
  ChildMessage m;
  m.kind = ChildMessage::terminalMaster;
  m.index = index;
  int error = sendChildFd(channel, m, master);
  ::close(master);
  return error == 0 ? StageError{} : failed(error);
}

}  // namespace

StageError openSandboxTerminals(const JobTerminalPlan& plan, int channel) noexcept {
  const int stdoutTargets[] = {1, 0};
  if (StageError e = openOne(plan, channel, 0, stdoutTargets, plan.inputOnTerminal ? 2 : 1)) return e;
  const int stderrTargets[] = {2};
  return openOne(plan, channel, 1, stderrTargets, 1);
}

CallerTerminal::CallerTerminal(bool relayInput) {
  if (!relayInput || ::tcgetattr(0, &saved_) != 0) return;
  struct termios mode = saved_;
  mode.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  mode.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | IEXTEN);
  // ^\ would kill jobtape with a core and leave the terminal raw; ^Z would
  // stop it with the terminal raw. Both go to the job's terminal as bytes.
  mode.c_cc[VQUIT] = _POSIX_VDISABLE;
  mode.c_cc[VSUSP] = _POSIX_VDISABLE;
  mode.c_cc[VMIN] = 1;
  mode.c_cc[VTIME] = 0;
  modeChanged_ = ::tcsetattr(0, TCSANOW, &mode) == 0;
}

CallerTerminal::~CallerTerminal() {
  if (modeChanged_) ::tcsetattr(0, TCSANOW, &saved_);
}

void CallerTerminal::forwardWindowSize(int stdoutMaster, int stderrMaster) const {
  winch_.drain();
  struct winsize size{};
  int from = ::isatty(1) ? 1 : 0;
  if (::ioctl(from, TIOCGWINSZ, &size) != 0) return;
  for (int master : {stdoutMaster, stderrMaster}) {
    if (master >= 0) (void)::ioctl(master, TIOCSWINSZ, &size);
  }
}

bool CallerTerminal::inputAvailable() { return ::isatty(0) && ::tcgetpgrp(0) == ::getpgrp(); }

}  // namespace jobtape::sandbox
