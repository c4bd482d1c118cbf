// Watches SIGWINCH for a terminal relay: the handler only writes a byte to a
// pipe, which the supervisor's poll loop reads (fd()). One watch at a time
// in a process: a second one gets fd() == -1 and relays without resizes.
// Used by the debug-shell relay (pseudo_terminal.h) and by the terminals a
// job runs on (job_terminal.h).
#pragma once

namespace jobtape::sandbox {

class WindowSizeWatch {
 public:
  WindowSizeWatch();
  ~WindowSizeWatch();
  WindowSizeWatch(const WindowSizeWatch&) = delete;
  WindowSizeWatch& operator=(const WindowSizeWatch&) = delete;

  // Readable after a SIGWINCH; -1 if another watch is active.
  int fd() const { return read_; }
  // Empties the pipe (call when fd() was readable).
  void drain() const;

 private:
  int read_ = -1;
};

}  // namespace jobtape::sandbox
