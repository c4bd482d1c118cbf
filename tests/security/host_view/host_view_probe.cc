// Runs inside `jobtape run` and tries to reach what the read-only host view
// should no longer show; prints what it achieved, one word or errno name:
//
//   host_view_probe connect PATH   "connected" or the errno of connect()
//                                  (@NAME: an abstract socket)
//   host_view_probe list DIR       "empty", the entries, or the errno
//   host_view_probe read FILE      "read N" or the errno of open()
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

int fail() {
  std::printf("%s\n", strerrorname_np(errno));
  return 0;
}

int tryConnect(const char* path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path);
  socklen_t length = sizeof address;
  if (path[0] == '@') {  // abstract: a NUL first, the name's bytes only
    address.sun_path[0] = '\0';
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + std::strlen(path));
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) return fail();
  std::printf("connected\n");
  return 0;
}

int list(const char* path) {
  DIR* dir = ::opendir(path);
  if (dir == nullptr) return fail();
  std::string names;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names += (names.empty() ? "" : " ") + name;
  }
  ::closedir(dir);
  std::printf("%s\n", names.empty() ? "empty" : names.c_str());
  return 0;
}

int readFile(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail();
  char buffer[4096];
  ssize_t total = 0, n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) total += n;
  ::close(fd);
  std::printf("read %zd\n", total);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: host_view_probe connect|list|read PATH\n");
    return 2;
  }
  std::string what = argv[1];
  if (what == "connect") return tryConnect(argv[2]);
  if (what == "list") return list(argv[2]);
  if (what == "read") return readFile(argv[2]);
  std::fprintf(stderr, "host_view_probe: unknown probe %s\n", argv[1]);
  return 2;
}
