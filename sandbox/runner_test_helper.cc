// The program the runner tests run inside the sandbox: each mode tries one
// thing a job could do and prints what happened (an errno name like EROFS, or
// what it saw), so that tests assert on the precise failure. The escape
// counterpart of the seccomp policy's try_syscall.
//
//   runner_test_helper MODE ARGS...
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

using Args = std::vector<std::string>;

int report(int rc) {
  std::cout << (rc == 0 ? "ok" : strerrorname_np(rc)) << std::endl;
  return 0;
}

void sleepMs(long ms) {
  struct timespec ts{ms / 1000, (ms % 1000) * 1'000'000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

// out:TEXT, err:TEXT, sleep:MS — each write is one write(2).
int script(const Args& a) {
  for (const std::string& step : a) {
    size_t colon = step.find(':');
    std::string verb = step.substr(0, colon), arg = step.substr(colon + 1);
    if (verb == "out" || verb == "err") {
      [[maybe_unused]] ssize_t n = write(verb == "out" ? 1 : 2, arg.data(), arg.size());
    } else if (verb == "sleep") {
      sleepMs(std::stol(arg));
    }
  }
  return 0;
}

int writeFile(const Args& a) {
  int fd = open(a.at(0).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return report(errno);
  std::string text = a.size() > 1 ? a[1] : "written";
  int rc = write(fd, text.data(), text.size()) < 0 ? errno : 0;
  close(fd);
  return report(rc);
}

int readFile(const Args& a) {
  int fd = open(a.at(0).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return report(errno);
  char buf[256];
  int rc = read(fd, buf, sizeof buf) < 0 ? errno : 0;
  close(fd);
  return report(rc);
}

int catFile(const Args& a) {
  std::ifstream in(a.at(0));
  if (!in) return report(errno);
  std::cout << in.rdbuf();
  return 0;
}

int connectLocal(const Args& a) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return report(errno);
  struct sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(a.at(0))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0 ? errno : 0;
  close(s);
  return report(rc);
}

// The network interfaces of the process's own namespace (/proc/net/dev is
// per namespace; if_nameindex would need a netlink socket).
int interfaces(const Args&) {
  std::ifstream in("/proc/net/dev");
  if (!in) return report(errno);
  std::string line;
  for (int skip = 0; skip < 2 && std::getline(in, line); ++skip) {
  }
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(' ');
    std::cout << line.substr(start, line.find(':') - start) << "\n";
  }
  return 0;
}

// Names of the entries of a directory (without the fd used to read it).
std::vector<std::string> listDir(const char* path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path);
  if (dir == nullptr) return names;
  std::string self = std::to_string(dirfd(dir));
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && !(std::strcmp(path, "/proc/self/fd") == 0 && name == self)) names.push_back(name);
  }
  closedir(dir);
  return names;
}

int openFds(const Args&) {
  for (const std::string& fd : listDir("/proc/self/fd")) std::cout << fd << "\n";
  return 0;
}

int processes(const Args&) {
  for (const std::string& name : listDir("/proc")) {
    if (name.find_first_not_of("0123456789") == std::string::npos) std::cout << name << "\n";
  }
  return 0;
}

// "MOUNTPOINT FSTYPE" per line.
int mounts(const Args&) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t sp; (sp = line.find(' ', start)) != std::string::npos; start = sp + 1) f.push_back(line.substr(start, sp - start));
    f.push_back(line.substr(start));
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() > 4 && dash + 1 < f.size()) std::cout << f[4] << " " << f[dash + 1] << "\n";
  }
  return 0;
}

int printArgs(const Args& a) {
  for (const std::string& arg : a) std::cout << "[" << arg << "]\n";
  return 0;
}

int allocate(const Args& a) {
  size_t bytes = std::stoul(a.at(0)) << 20;
  char* p = static_cast<char*>(malloc(bytes));
  if (p == nullptr) return report(ENOMEM);
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
  return report(0);
}

[[noreturn]] void waitForever() {
  for (;;) pause();
}

// A tree that resists: main ignores SIGTERM, a grandchild left the process
// group and session and ignores SIGTERM, another grandchild is stopped.
int tree(const Args& a, const char* self) {
  signal(SIGTERM, SIG_IGN);
  if (fork() == 0) {
    setsid();
    execl(self, self, "spin", a.at(0).c_str(), static_cast<char*>(nullptr));
    _exit(1);
  }
  if (fork() == 0) {
    execl(self, self, "stopped", a.at(0).c_str(), static_cast<char*>(nullptr));
    _exit(1);
  }
  sleepMs(100);
  std::cout << "ready" << std::endl;
  waitForever();
}

int burn(const Args& a) {
  struct timespec start{}, now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
  long wanted = std::stol(a.at(0)) * 1'000'000;
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 100000; ++i) x = x + i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  } while ((now.tv_sec - start.tv_sec) * 1'000'000'000L + (now.tv_nsec - start.tv_nsec) < wanted);
  return 0;
}

int statusLines(const Args&) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"Cap", "NoNewPrivs", "Seccomp:", "Uid", "Gid", "Groups"}) {
      if (line.rfind(key, 0) == 0) std::cout << line << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: runner_test_helper MODE ARGS...\n";
    return 2;
  }
  std::string mode = argv[1];
  Args a(argv + 2, argv + argc);
  if (mode == "exit") return std::stoi(a.at(0));
  if (mode == "raise") {
    raise(std::stoi(a.at(0)));
    return 0;
  }
  if (mode == "script") return script(a);
  if (mode == "write") return writeFile(a);
  if (mode == "read") return readFile(a);
  if (mode == "cat") return catFile(a);
  if (mode == "connect") return connectLocal(a);
  if (mode == "ifaces") return interfaces(a);
  if (mode == "fds") return openFds(a);
  if (mode == "procs") return processes(a);
  if (mode == "mounts") return mounts(a);
  if (mode == "args") return printArgs(a);
  if (mode == "alloc") return allocate(a);
  if (mode == "tree") return tree(a, argv[0]);
  if (mode == "burn") return burn(a);
  if (mode == "status") return statusLines(a);
  if (mode == "spin") {
    signal(SIGTERM, SIG_IGN);
    waitForever();
  }
  if (mode == "stopped") {
    raise(SIGSTOP);
    waitForever();
  }
  if (mode == "ready") {
    std::cout << "ready" << std::endl;
    waitForever();
  }
  if (mode == "hostname") {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    std::cout << name << "\n";
    return 0;
  }
  if (mode == "ids") {
    std::cout << getuid() << " " << getgid() << " " << geteuid() << " " << getegid() << "\n";
    return 0;
  }
  if (mode == "cwd") {
    char cwd[4096] = {};
    std::cout << (getcwd(cwd, sizeof cwd) ? cwd : "?") << "\n";
    return 0;
  }
  if (mode == "env") {
    for (char** e = environ; *e != nullptr; ++e) std::cout << *e << "\n";
    return 0;
  }
  if (mode == "pid") {
    std::cout << getpid() << " " << getppid() << " " << getsid(0) << "\n";
    return 0;
  }
  std::cerr << "runner_test_helper: unknown mode " << mode << "\n";
  return 2;
}
