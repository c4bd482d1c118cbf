// StdioMode::jobTerminal: the job's stdout and stderr are pseudo-terminals of
// its own, one each (compilers look at stderr to decide on colour, ninja at
// stdout for its status line), so that it behaves as it would at the
// caller's terminal while its output is still recorded stream by stream.
//
// Sandboxed, the terminals come from the sandbox's own devpts instance
// (mount_tree.h mounts one with newinstance,ptmxmode=0666 at /dev/pts):
// pid 1 opens them after the mount tree is built, before it confines itself,
// makes them the sandbox's fds 1 and 2 (and 0 when the caller's terminal
// input goes to the job), and hands the master sides up the channel
// (child_report.h: terminalMaster, index 0 for stdout, 1 for stderr). The
// supervisor reads the masters exactly as it reads the capture pipes, so the
// recording is the same. Unsandboxed, the terminals are opened on the host
// before the clone (pseudo_terminal.h).
//
// No terminal of the host reaches a sandboxed job: pid 1 has no controlling
// terminal (setsid), and the main process makes the stdout terminal the
// controlling terminal of its new session, so the terminal's own Ctrl-C goes
// to the job's foreground process group. TIOCSTI is refused by the seccomp
// policy all the same.
//
// The job's terminals translate no "\n" into "\r\n" (ONLCR off): the recorded
// output reads like a pipe's; the caller's terminal does the translation.
// Their suspend character is off: nothing inside could resume a stopped job.
#pragma once

#include <sys/ioctl.h>
#include <termios.h>

#include "sandbox/child_report.h"
#include "sandbox/window_size_watch.h"

namespace jobtape::sandbox {

struct JobTerminalPlan {
  struct winsize size{};     // of the caller's terminal, else 80x24
  bool inputOnTerminal = false;  // fd 0 is the stdout terminal too
  // The caller's window size (fd 1 if a terminal, else fd 0), else 80x24.
  static JobTerminalPlan forCaller(bool inputOnTerminal);
};

// pid 1, after the mount tree (/dev/pts is the sandbox's devpts), before
// confining itself. Async-signal-safe.
StageError openSandboxTerminals(const JobTerminalPlan& plan, int channel) noexcept;

// The settings above, for a terminal opened elsewhere (the unsandboxed case).
void configureJobTerminal(int fd, const struct winsize& size) noexcept;

// The caller's side while a job runs on its own terminals: with input relayed
// from the caller's terminal (fd 0), that terminal is put in a raw input mode
// (no line editing, no echo: the job's terminal does both) that keeps its
// signal characters, so Ctrl-C still reaches jobtape, which stops the whole
// tree, and keeps output processing. Restored by the destructor, which every
// way out of sandbox::run passes.
class CallerTerminal {
 public:
  explicit CallerTerminal(bool relayInput);
  ~CallerTerminal();
  CallerTerminal(const CallerTerminal&) = delete;
  CallerTerminal& operator=(const CallerTerminal&) = delete;

  int winchFd() const { return winch_.fd(); }
  // After a SIGWINCH: the caller's window size onto each master (-1 skipped).
  void forwardWindowSize(int stdoutMaster, int stderrMaster) const;

  // Whether the caller's terminal input may go to the job: stdin is a
  // terminal and this process is in its foreground (a background jobtape
  // would be stopped by SIGTTIN on reading it).
  static bool inputAvailable();

 private:
  bool modeChanged_ = false;
  struct termios saved_{};
  WindowSizeWatch winch_;
};

}  // namespace jobtape::sandbox
