// Attacks on the sandbox's own pid 1, run as a job of `jobtape run`. Each
// line printed is one attempt: "NAME refused ERRNO-NAME" or "NAME ACHIEVED".
// The suite beside it fails on any ACHIEVED.
//
//   pid1_probe reach          pid 1's memory, descriptors, environment
//   pid1_probe status         pid 1's filter and privileges, from /proc/1/status
//   pid1_probe fds            the descriptors the job itself holds
//   pid1_probe escape         try to rewrite pid 1 so that it clears its death
//                             signal, then leave a process that survives its
//                             own parent's death and writes ./escaped a
//                             second after jobtape (its stdout's reader) died
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void said(const char* name, int rc) {
  if (rc >= 0) {
    std::printf("%s ACHIEVED\n", name);
  } else {
    std::printf("%s refused %s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
  }
}

int openAndRead(const char* path, int flags) {
  int fd = ::open(path, flags | O_CLOEXEC);
  if (fd < 0) return -1;
  char byte;
  ssize_t n = ::read(fd, &byte, 1);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return n < 0 ? -1 : 0;
}

// Listing the numbers is not the attack; reaching what they name is.
void reachFds() {
  DIR* dir = ::opendir("/proc/1/fd");
  if (dir == nullptr) {
    said("fd-follow", -1);
    return;
  }
  int listed = 0;
  bool reached = false;
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ++listed;
    std::string path = std::string("/proc/1/fd/") + e->d_name;
    char target[256];
    if (::readlink(path.c_str(), target, sizeof target) >= 0) reached = true;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
      reached = true;
      ::close(fd);
    }
  }
  ::closedir(dir);
  if (reached) {
    std::printf("fd-follow ACHIEVED (%d listed)\n", listed);
  } else {
    std::printf("fd-follow refused (%d listed, none followed)\n", listed);
  }
}

// What an attacker waits for first: pid 1 done with its own setup (it
// used to give up its capabilities only once the job had started). Bounded:
// a pid 1 that never gets there is attacked as it is.
void waitForPid1ToSettle() {
  for (int attempt = 0; attempt < 200; ++attempt) {
    FILE* f = std::fopen("/proc/1/status", "re");
    if (f == nullptr) return;
    char line[256];
    bool settled = false;
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::strcmp(line, "CapEff:\t0000000000000000\n") == 0) settled = true;
    }
    std::fclose(f);
    if (settled) return;
    ::usleep(10'000);
  }
}

int reach() {
  waitForPid1ToSettle();
  said("mem-write", ::open("/proc/1/mem", O_RDWR | O_CLOEXEC));
  said("mem-read", openAndRead("/proc/1/mem", O_RDONLY));
  said("environ", openAndRead("/proc/1/environ", O_RDONLY));
  said("syscall", openAndRead("/proc/1/syscall", O_RDONLY));
  reachFds();
  char buffer[8] = {};
  struct iovec local{buffer, sizeof buffer};
  struct iovec remote{reinterpret_cast<void*>(0x10), sizeof buffer};
  long rc = ::process_vm_writev(1, &local, 1, &remote, 1, 0);
  // EFAULT means the kernel let us at pid 1 and only the address was wrong.
  said("process_vm_writev", rc < 0 && errno != EFAULT ? -1 : 0);
  rc = ::process_vm_readv(1, &local, 1, &remote, 1, 0);
  said("process_vm_readv", rc < 0 && errno != EFAULT ? -1 : 0);
  said("ptrace-seize", static_cast<int>(::ptrace(PTRACE_SEIZE, 1, nullptr, nullptr)));
  said("ptrace-attach", static_cast<int>(::ptrace(PTRACE_ATTACH, 1, nullptr, nullptr)));
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, 1, 0));
  said("pidfd_getfd", pidfd < 0 ? -1 : static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, 0, 0)));
  return 0;
}

int status() {
  FILE* f = std::fopen("/proc/1/status", "re");
  if (f == nullptr) return 1;
  char line[256];
  for (const char* key : {"Seccomp:", "NoNewPrivs:", "CapEff:", "CapPrm:", "CapBnd:"}) {
    std::rewind(f);
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::strncmp(line, key, std::strlen(key)) == 0) std::fputs(line, stdout);
    }
  }
  std::fclose(f);
  return 0;
}

int fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 1;
  std::string list;
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || std::atoi(e->d_name) == ::dirfd(dir)) continue;
    list += list.empty() ? "" : " ";
    list += e->d_name;
  }
  ::closedir(dir);
  std::printf("fds %s\n", list.c_str());
  return 0;
}

// pid 1 waits in a system call; the code it returns to is rewritten to
// prctl(PR_SET_PDEATHSIG, 0) and an endless pause().
void hijackPid1() {
  int mem = ::open("/proc/1/mem", O_RDWR | O_CLOEXEC);
  if (mem < 0) {
    said("hijack", -1);
    return;
  }
#if defined(__x86_64__)
  static const unsigned char code[] = {
      0xbf, 0x01, 0x00, 0x00, 0x00,  // mov edi, PR_SET_PDEATHSIG
      0x31, 0xf6,                    // xor esi, esi
      0xb8, 0x9d, 0x00, 0x00, 0x00,  // mov eax, SYS_prctl
      0x0f, 0x05,                    // syscall
      0xb8, 0x22, 0x00, 0x00, 0x00,  // mov eax, SYS_pause
      0x0f, 0x05,                    // syscall
      0xeb, 0xf7,                    // jmp back to the pause
  };
  for (int attempt = 0; attempt < 100; ++attempt) {
    FILE* f = std::fopen("/proc/1/syscall", "re");
    char line[512] = {};
    if (f != nullptr) {
      (void)!std::fgets(line, sizeof line, f);
      std::fclose(f);
    }
    const char* pc = std::strrchr(line, ' ');
    if (line[0] >= '0' && line[0] <= '9' && pc != nullptr) {
      unsigned long address = std::strtoul(pc + 1, nullptr, 16);
      if (::pwrite(mem, code, sizeof code, static_cast<off_t>(address)) == sizeof code) {
        ::kill(1, SIGUSR1);  // wakes its sigwaitinfo into the new code
        std::printf("hijack ACHIEVED\n");
        return;
      }
    }
    ::usleep(10'000);
  }
#endif
  std::printf("hijack refused (opened /proc/1/mem but could not rewrite it)\n");
}

[[noreturn]] void survivor() {
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  // POLLERR on a pipe's write end: nobody reads it any more (jobtape died).
  struct pollfd out{1, 0, 0};
  while (::poll(&out, 1, -1) < 0 || (out.revents & POLLERR) == 0) {
  }
  // jobtape closes its files before its death kills pid 1: a process of the
  // job may see the pipe's end just before it is killed too. Running on a
  // second later is what it must never do.
  ::sleep(1);
  int fd = ::open("escaped", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) (void)!::write(fd, "escaped\n", 8);
  ::_exit(0);
}

int escape() {
  waitForPid1ToSettle();
  hijackPid1();
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  pid_t first = ::fork();
  if (first == 0) {
    ::setsid();
    if (::fork() == 0) survivor();
    ::_exit(0);
  }
  ::waitpid(first, nullptr, 0);
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "reach") return reach();
  if (mode == "status") return status();
  if (mode == "fds") return fds();
  if (mode == "escape") return escape();
  std::fprintf(stderr, "usage: pid1_probe reach|status|fds|escape [TOKEN]\n");
  return 2;
}
