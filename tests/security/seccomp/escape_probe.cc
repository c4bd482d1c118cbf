// escape_probe: small attacks on the sandbox's boundary, run inside
// `jobtape run`; each prints what it reached so the suite can fail if it
// reached anything.
//
//   escape_probe fds               open descriptors other than 0, 1, 2: "fd N"
//   escape_probe connect-tcp PORT  "connected" or "refused ERRNO" (127.0.0.1)
//   escape_probe find-process A B  "found PID" for every process whose argv
//                                  holds A followed by B as one argument,
//                                  then "done" (given in two parts so that
//                                  the probe's own argv never holds it)
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace {

int listDescriptors() {
  struct rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  int top = limit.rlim_cur > 65536 ? 65536 : static_cast<int>(limit.rlim_cur);
  for (int fd = 3; fd < top; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) printf("fd %d\n", fd);
  }
  return 0;
}

int connectTcp(const char* portText) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    printf("refused %d\n", errno);
    return 0;
  }
  struct sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(atoi(portText)));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    printf("connected\n");
  } else {
    printf("refused %d\n", errno);
  }
  close(fd);
  return 0;
}

bool argvHolds(const char* pid, const char* word) {
  std::string path = std::string("/proc/") + pid + "/cmdline";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  close(fd);
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\0', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, end - at, word) == 0) return true;
    at = end + 1;
  }
  return false;
}

int findProcess(const char* word) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    printf("no-proc %d\n", errno);
    return 0;
  }
  while (struct dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    if (argvHolds(entry->d_name, word)) printf("found %s\n", entry->d_name);
  }
  closedir(proc);
  printf("done\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "fds") == 0) return listDescriptors();
  if (argc == 3 && strcmp(argv[1], "connect-tcp") == 0) return connectTcp(argv[2]);
  if (argc == 4 && strcmp(argv[1], "find-process") == 0) return findProcess((std::string(argv[2]) + argv[3]).c_str());
  fprintf(stderr, "usage: escape_probe fds | connect-tcp PORT | find-process A B\n");
  return 2;
}
