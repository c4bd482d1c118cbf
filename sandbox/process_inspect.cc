#include "sandbox/process_inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

namespace jobtape::sandbox {
namespace {

// Strings are read in pieces this big: most arguments fit one read, and a
// piece never reaches far past a short string's end.
constexpr size_t kPiece = 1024;
// Pointers of an argv array read at once.
constexpr size_t kPointersAtOnce = 64;

ssize_t readRemote(pid_t pid, uint64_t address, void* into, size_t size) {
  iovec local{into, size};
  iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(address)), size};
  return ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string procPath(pid_t pid, std::string_view leaf) {
  return "/proc/" + std::to_string(pid) + "/" + std::string(leaf);
}

// Parses "NAME:\tvalue..." lines' numbers.
std::vector<pid_t> numbersAfter(std::string_view line) {
  std::vector<pid_t> numbers;
  const char* p = line.data();
  const char* end = line.data() + line.size();
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    pid_t value = 0;
    auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || next == p) break;
    numbers.push_back(value);
    p = next;
  }
  return numbers;
}

}  // namespace

std::optional<std::string> readRemoteString(pid_t pid, uint64_t address, size_t maxBytes, int* error) {
  std::string text;
  char piece[kPiece];
  while (text.size() < maxBytes) {
    size_t want = std::min(kPiece, maxBytes - text.size());
    ssize_t got = readRemote(pid, address + text.size(), piece, want);
    if (got <= 0) {  // unreadable (EFAULT) or gone (ESRCH)
      if (error != nullptr) *error = got == 0 ? EFAULT : errno;
      return std::nullopt;
    }
    const char* nul = static_cast<const char*>(std::memchr(piece, '\0', static_cast<size_t>(got)));
    if (nul != nullptr) {
      text.append(piece, static_cast<size_t>(nul - piece));
      return text;
    }
    text.append(piece, static_cast<size_t>(got));
  }
  if (error != nullptr) *error = ENAMETOOLONG;
  return std::nullopt;
}

RemoteStringList readRemoteStringArray(pid_t pid, uint64_t address, size_t maxItems, size_t maxBytes) {
  RemoteStringList list;
  size_t bytesLeft = maxBytes;
  uint64_t pointers[kPointersAtOnce];
  for (;;) {
    ssize_t got = readRemote(pid, address + list.items.size() * sizeof(uint64_t), pointers, sizeof pointers);
    size_t count = got > 0 ? static_cast<size_t>(got) / sizeof(uint64_t) : 0;
    if (count == 0) {
      list.truncated = true;
      return list;
    }
    for (size_t i = 0; i < count; ++i) {
      if (pointers[i] == 0) return list;
      if (list.items.size() == maxItems || bytesLeft == 0) {
        list.truncated = true;
        return list;
      }
      std::optional<std::string> item = readRemoteString(pid, pointers[i], bytesLeft);
      if (!item) {
        list.truncated = true;
        return list;
      }
      bytesLeft -= std::min(bytesLeft, item->size() + 1);
      list.items.push_back(std::move(*item));
    }
  }
}

std::optional<ProcStatus> readProcStatus(pid_t pid) {
  Fd fd(::open(procPath(pid, "status").c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  char buffer[8192];
  size_t size = 0;
  ssize_t got;
  while (size < sizeof buffer && (got = ::read(fd.get(), buffer + size, sizeof buffer - size)) > 0) {
    size += static_cast<size_t>(got);
  }
  ProcStatus status;
  bool sawPpid = false;
  std::string_view text(buffer, size);
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    auto field = [&](std::string_view name) { return line.starts_with(name) ? line.substr(name.size()) : std::string_view(); };
    if (auto v = field("Tgid:"); !v.empty()) {
      auto n = numbersAfter(v);
      if (!n.empty()) status.tgid = n[0];
    } else if (auto v = field("PPid:"); !v.empty()) {
      auto n = numbersAfter(v);
      if (!n.empty()) status.hostPpid = n[0], sawPpid = true;
    } else if (auto v = field("NSpid:"); !v.empty()) {
      status.nsPids = numbersAfter(v);
    }
  }
  if (status.tgid == 0 || !sawPpid || status.nsPids.empty()) return std::nullopt;
  return status;
}

namespace {

std::optional<std::string> readLink(const std::string& link) {
  char buffer[4096];
  ssize_t n = ::readlink(link.c_str(), buffer, sizeof buffer);
  if (n < 0 || static_cast<size_t>(n) == sizeof buffer) return std::nullopt;
  return std::string(buffer, static_cast<size_t>(n));
}

}  // namespace

// The kernel prints these links relative to the root of the process's mount
// namespace, which is the process's own root in the sandbox.
std::optional<std::string> readCwd(pid_t pid) { return readLink(procPath(pid, "cwd")); }

std::optional<std::string> readFdPath(pid_t pid, int fd) {
  return readLink(procPath(pid, "fd/" + std::to_string(fd)));
}

int certainExecError(pid_t pid, const std::string& path) {
  if (path.empty() || path[0] != '/') return 0;
  // procfs answers a lookup by who asks (hidepid); the job may see more.
  if (path.starts_with("/proc/")) return 0;
  Fd root(::open(procPath(pid, "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return 0;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS;
  Fd file(static_cast<int>(::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how)));
  if (file.get() < 0) return errno == ENOENT || errno == ENOTDIR ? errno : 0;
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return 0;
  return S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0 ? 0 : EACCES;
}

}  // namespace jobtape::sandbox
