// StdioMode::terminal: the job runs on a new pseudo-terminal whose slave side
// is its controlling terminal (setsid + TIOCSCTTY in the main process), and
// the supervisor relays the caller's terminal to the master side: input in raw
// mode (so Ctrl-C, Ctrl-Z reach the job's shell as characters, and its line
// discipline decides), output back, and window size changes (SIGWINCH).
//
// The job never gets the caller's terminal itself: TIOCSTI-style injection
// into the caller's shell (CVE-2017-5226) has nothing to aim at.
#pragma once

#include <termios.h>

#include "sandbox/fd_util.h"
#include "sandbox/window_size_watch.h"

namespace jobtape::sandbox {

struct PtyPair {
  UniqueFd master;
  UniqueFd slave;
  // A new pty with the window size of `sizeFrom` when that is a terminal.
  // Throws std::system_error.
  static PtyPair open(int sizeFrom);
};

class TerminalRelay {
 public:
  // `in`/`out`: the caller's terminal (usually 0 and 1). Puts `in` in raw mode
  // when it is a terminal and starts watching SIGWINCH (one relay at a time
  // watches; a second one relays without resizes).
  TerminalRelay(int master, int in, int out);
  ~TerminalRelay();
  TerminalRelay(const TerminalRelay&) = delete;
  TerminalRelay& operator=(const TerminalRelay&) = delete;

  int inputFd() const { return inputOpen_ ? in_ : -1; }
  int winchFd() const { return winch_.fd(); }
  // Caller input → job. False once the input is at its end (the job then
  // gets an end-of-file character).
  bool forwardInput();
  // Job output → caller.
  void writeOutput(const char* data, size_t size);
  // SIGWINCH arrived: copy the caller's window size to the job's terminal.
  void forwardWindowSize();

 private:
  int master_, in_, out_;
  bool inputOpen_ = true;
  bool rawMode_ = false;
  struct termios saved_{};
  WindowSizeWatch winch_;
};

}  // namespace jobtape::sandbox
