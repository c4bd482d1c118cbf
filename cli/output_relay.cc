#include "cli/output_relay.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

#include "cli/write_all.h"

namespace jobtape::cli {

namespace {
constexpr std::string_view kReadOnlyText = "Read-only file system";
}  // namespace

void OutputRelay::write(size_t job, const std::string& name, OutputStream stream, std::string_view bytes) {
  int fd = stream == OutputStream::stdout_ ? STDOUT_FILENO : STDERR_FILENO;
  std::lock_guard lock(mutex_);
  noteReadOnly(job, stream, bytes);
  if (quiet_) return;
  if (!prefix_) return writeAll(fd, bytes);
  std::string& pending = partial_[{job, fd}];
  pending.append(bytes);
  size_t start = 0;
  for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
    writeAll(fd, fmt::format("[{}] {}", name, std::string_view(pending).substr(start, end + 1 - start)));
  }
  pending.erase(0, start);
}

bool OutputRelay::metReadOnly(size_t job) {
  std::lock_guard lock(mutex_);
  return readOnlySeen_.count(job) != 0;
}

void OutputRelay::endJob(size_t job, const std::string& name) {
  std::lock_guard lock(mutex_);
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    auto it = partial_.find({job, fd});
    if (it == partial_.end()) continue;
    if (!it->second.empty()) writeAll(fd, fmt::format("[{}] {}\n", name, it->second));
    partial_.erase(it);
  }
}

// Each stream keeps the end of its last chunk, so that the text is found
// where a chunk boundary cuts it.
void OutputRelay::noteReadOnly(size_t job, OutputStream stream, std::string_view bytes) {
  if (readOnlySeen_.count(job)) return;
  const size_t keep = kReadOnlyText.size() - 1;
  std::string& tail = tails_[{job, static_cast<int>(stream)}];
  std::string seam = tail + std::string(bytes.substr(0, keep));
  if (seam.find(kReadOnlyText) != std::string::npos || bytes.find(kReadOnlyText) != std::string_view::npos) {
    readOnlySeen_.insert(job);
    return;
  }
  tail = bytes.size() >= keep ? std::string(bytes.substr(bytes.size() - keep))
                              : seam.substr(seam.size() > keep ? seam.size() - keep : 0);
}

void OutputRelay::writeAll(int fd, std::string_view bytes) {
  bool& broken = fd == STDOUT_FILENO ? stdoutBroken_ : stderrBroken_;
  if (broken || cli::writeAll(fd, bytes)) return;
  broken = true;
  if (errno == EPIPE) token_.request(SIGPIPE);
}

}  // namespace jobtape::cli
