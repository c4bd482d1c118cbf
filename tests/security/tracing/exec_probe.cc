// Tries to run programs inside `jobtape run` without their exec being
// recorded, and prints "ran NAME" for each one that ran (exit status 0).
// NAME is the program's argv[0], so the suite can look for it among the
// recorded processes: every name printed must be there.
//
//   exec_probe paths       symlinks through /proc/self, relative paths,
//                          execveat on an fd and fd-relative, /proc/self/fd
//   exec_probe fanout N    N processes alive at once, each an exec of cat
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

namespace {

const char kTrue[] = "/bin/true";

// Runs `exec` in a child (it gets argv {name}) and reports whether it ran.
void attempt(const char* name, const std::function<void(char* const argv[])>& exec) {
  pid_t child = ::fork();
  if (child < 0) return;
  if (child == 0) {
    char* argv[] = {const_cast<char*>(name), nullptr};
    exec(argv);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) std::printf("ran %s\n", name);
}

char** environment() { return environ; }

int paths() {
  char dir[] = "/tmp/exec-probe-XXXXXX";
  if (::mkdtemp(dir) == nullptr || ::chdir(dir) != 0) return 1;
  const char* links[][2] = {{"root-true", "/proc/self/root/bin/true"},
                            {"root-bin", "/proc/self/root/usr/bin"},
                            {"cwd-true", "/proc/self/cwd/true"},
                            {"true", kTrue}};
  for (const auto& link : links) {
    if (::symlink(link[1], link[0]) != 0) return 1;
  }
  std::string here = dir;
  attempt("via-self-root", [&](char* const argv[]) { ::execve((here + "/root-true").c_str(), argv, environment()); });
  attempt("via-self-root-dir", [&](char* const argv[]) { ::execve((here + "/root-bin/true").c_str(), argv, environment()); });
  attempt("via-self-cwd", [&](char* const argv[]) { ::execve((here + "/cwd-true").c_str(), argv, environment()); });
  attempt("via-relative-link", [](char* const argv[]) { ::execve("./root-true", argv, environment()); });
  attempt("via-proc-self-root", [](char* const argv[]) { ::execve("/proc/self/root/bin/true", argv, environment()); });
  attempt("via-empty-path-fd", [](char* const argv[]) {
    int fd = ::open(kTrue, O_RDONLY | O_CLOEXEC);
    ::syscall(SYS_execveat, fd, "", argv, environment(), AT_EMPTY_PATH);
  });
  attempt("via-o-path-fd", [](char* const argv[]) {
    int fd = ::open(kTrue, O_PATH | O_CLOEXEC);
    ::syscall(SYS_execveat, fd, "", argv, environment(), AT_EMPTY_PATH);
  });
  attempt("via-dir-fd", [](char* const argv[]) {
    int fd = ::open("/usr/bin", O_PATH | O_DIRECTORY | O_CLOEXEC);
    ::syscall(SYS_execveat, fd, "true", argv, environment(), 0);
  });
  attempt("via-dir-fd-link", [&](char* const argv[]) {
    int fd = ::open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ::syscall(SYS_execveat, fd, "root-true", argv, environment(), 0);
  });
  attempt("via-proc-self-fd", [](char* const argv[]) {
    int fd = ::open(kTrue, O_RDONLY);  // not close-on-exec: the kernel opens it by this path
    ::execve(("/proc/self/fd/" + std::to_string(fd)).c_str(), argv, environment());
  });
  for (const auto& link : links) ::unlink(link[0]);
  ::chdir("/");
  ::rmdir(dir);
  return 0;
}

// All N children stay alive (reading a pipe nobody writes) until the last
// one was forked; then end of file ends them all.
int fanout(int count) {
  int hold[2];
  if (::pipe(hold) != 0) return 1;
  int forked = 0;
  for (; forked < count; ++forked) {
    pid_t child = ::fork();
    if (child < 0) break;
    if (child == 0) {
      ::dup2(hold[0], 0);
      ::close(hold[1]);
      char* argv[] = {const_cast<char*>("fanout-cat"), nullptr};
      ::execve("/bin/cat", argv, environment());
      ::_exit(127);
    }
  }
  ::close(hold[1]);
  int ran = 0;
  int status = 0;
  while (::wait(&status) > 0) ran += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("ran fanout-cat %d\n", ran);
  return forked == count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  if (argc == 2 && std::strcmp(argv[1], "paths") == 0) return paths();
  if (argc == 3 && std::strcmp(argv[1], "fanout") == 0) return fanout(std::atoi(argv[2]));
  std::fprintf(stderr, "usage: exec_probe paths | fanout N\n");
  return 2;
}
