// The caller's stdin, copied to a job as its bytes come (RunOptions::input).
//
// The job never gets the caller's file itself: an fd of a directory would let
// it openat() its way around the mount namespace, a regular file could be
// reopened for writing through /proc/self/fd, a terminal could be steered
// with ioctls. It gets a pipe (or its own terminal, job_terminal.h) that the
// supervisor fills: one read of the caller's fd at a time, only once the
// previous bytes are written, so a job that reads nothing holds back at most
// one buffer plus what the pipe holds (as `ssh` does, the bytes read ahead
// are gone from the caller's stdin).
//
// At the caller's end of input the pipe is closed (the job reads end-of-file),
// or, into a terminal, the terminal's VEOF character is written (its line
// discipline turns it into end-of-file for a reader in canonical mode). When
// the job closes its end, reading stops. Writes never block the supervisor,
// and a closed pipe does not raise SIGPIPE in the caller's process.
#pragma once

#include <string>

#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

class InputRelay {
 public:
  // `source`: the caller's fd (not owned, never made non-blocking).
  // `pipe`: the write end of the job's stdin pipe (owned; made non-blocking).
  InputRelay(int source, UniqueFd pipe);
  // Into a terminal master owned by someone else, once it exists (setTarget).
  explicit InputRelay(int source);

  // Sets (or, with -1, drops) the terminal master to write to.
  void setTerminalTarget(int master);

  // The fd to poll for POLLIN (-1: none now).
  int readableFd() const;
  // The fd to poll for POLLOUT (-1: none now).
  int writableFd() const;
  void onReadable();
  void onWritable();

 private:
  void flush();
  void endOfInput();
  void stop();
  int target() const { return pipe_ ? pipe_.get() : terminal_; }

  int source_ = -1;
  UniqueFd pipe_;
  int terminal_ = -1;
  bool intoTerminal_ = false;
  bool sourceOpen_ = true;
  bool eofPending_ = false;
  std::string pending_;
};

}  // namespace jobtape::sandbox
