// jobtape::CancelToken: how a caller stops running jobs, passed down as it
// is to the supervisor of every job it is given to (no thread forwards it).
#pragma once

#include <atomic>

namespace jobtape {

// Stops running jobs from another thread or from a signal handler. One token
// may be given to any number of jobs at once (e.g. every job of a build); a
// request reaches all of them, including jobs started after it. The token
// must outlive the run() calls it is given to.
class CancelToken {
 public:
  CancelToken();  // throws jobtape::Error (Kind::io) when no eventfd can be made
  ~CancelToken();
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Async-signal-safe: callable from a SIGINT handler. The job's whole
  // process tree gets `signal`, then SIGKILL after the recipe's kill grace.
  // The first request wins; a signal <= 0 is no request.
  void request(int signal) noexcept;
  bool requested() const noexcept { return signal_.load() != 0; }
  int signal() const noexcept { return signal_.load(); }
  // Readable (poll) once requested, and stays so: never read it. Owned by
  // the token, opened O_CLOEXEC.
  int fd() const noexcept { return fd_; }

 private:
  std::atomic<int> signal_{0};
  int fd_ = -1;
};

}  // namespace jobtape
