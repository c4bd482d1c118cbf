// The relay of `jobtape run`'s jobs' output to its own stdout and stderr.
#pragma once

#include <jobtape/recorder.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace jobtape::cli {

// Relays the jobs' output to our stdout/stderr as it arrives. With several
// jobs at once, each line gets its job's short name in front, and lines are
// never torn: a partial line waits for its end (or for the job's end).
// When the reader of our output goes away (`jobtape run -- make | head`), the
// jobs are stopped with SIGPIPE, as they would be without jobtape between.
// Jobs are numbered by the caller (0, 1, ...); every method is thread-safe.
class OutputRelay {
 public:
  OutputRelay(bool quiet, bool prefixLines, CancelToken& token)
      : quiet_(quiet), prefix_(prefixLines), token_(token) {}

  void write(size_t job, const std::string& name, OutputStream stream, std::string_view bytes);
  // Whether job `job`'s output said "Read-only file system" (EROFS's text),
  // also across chunks.
  bool metReadOnly(size_t job);
  // Writes the job's last partial lines, each ended.
  void endJob(size_t job, const std::string& name);

 private:
  void noteReadOnly(size_t job, OutputStream stream, std::string_view bytes);
  void writeAll(int fd, std::string_view bytes);

  bool quiet_;
  bool prefix_;
  CancelToken& token_;
  std::mutex mutex_;
  std::map<std::pair<size_t, int>, std::string> partial_;
  std::map<std::pair<size_t, int>, std::string> tails_;  // each stream's last bytes
  std::set<size_t> readOnlySeen_;
  bool stdoutBroken_ = false;
  bool stderrBroken_ = false;
};

}  // namespace jobtape::cli
