// Runs inside `jobtape run` and tries what a root caller's job must not do to
// the host; prints one line per attempt, "NAME ok" or "NAME ERRNO":
//
//   root_caller_probe setid FILE       chmod 4755 / 2755 of FILE, a new
//                                      setuid file beside it with open()
//   root_caller_probe devnodes         every device node of /dev: chmod,
//                                      chown, utime (to what it has),
//                                      rename, unlink, write
//   root_caller_probe power PID FILE   mount, sethostname, /proc/sys, a host
//                                      FILE outside the binds, kill(PID),
//                                      raising an rlimit's hard limit
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void note(const std::string& name, int rc) {
  std::printf("%s %s\n", name.c_str(), rc < 0 ? strerrorname_np(errno) : "ok");
}

int setid(const std::string& file) {
  note("chmod-4755", ::chmod(file.c_str(), 04755));
  note("chmod-2755", ::chmod(file.c_str(), 02755));
  std::string fresh = file + ".new";
  int fd = ::open(fresh.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 04755);
  note("open-4755", fd);
  if (fd >= 0) ::close(fd);
  return 0;
}

int devnodes() {
  DIR* dir = ::opendir("/dev");
  if (dir == nullptr) return 1;
  while (dirent* entry = ::readdir(dir)) {
    std::string path = std::string("/dev/") + entry->d_name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
    std::string name = entry->d_name;
    // The node's own mode, owner and times: if a call got through, the host
    // (whose inode this is) would still work, and the answer says it did.
    note(name + ":chmod", ::chmod(path.c_str(), st.st_mode & 07777));
    note(name + ":chown", ::lchown(path.c_str(), st.st_uid, st.st_gid));
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    note(name + ":utime", ::utimensat(AT_FDCWD, path.c_str(), times, 0));
    note(name + ":rename", ::rename(path.c_str(), (path + ".moved").c_str()));
    note(name + ":unlink", ::unlink(path.c_str()));
    if (name == "null" || name == "zero") {
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      note(name + ":write", fd < 0 ? fd : static_cast<int>(::write(fd, "x", 1)) - 1);
      if (fd >= 0) ::close(fd);
    }
  }
  ::closedir(dir);
  return 0;
}

int power(pid_t hostPid, const std::string& hostFile) {
  note("mount", ::mount("none", "/tmp", "tmpfs", 0, nullptr));
  note("sethostname", ::sethostname("jobtape-probe-host", 18));
  int fd = ::open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
  note("proc-sys", fd < 0 ? fd : static_cast<int>(::write(fd, "jobtape-probe-host\n", 19)));
  if (fd >= 0) ::close(fd);
  fd = ::open(hostFile.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  note("host-file-write", fd);
  if (fd >= 0) ::close(fd);
  note("host-file-chmod", ::chmod(hostFile.c_str(), 0777));
  note("kill", ::kill(hostPid, SIGKILL));
  struct rlimit limit;
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_max != RLIM_INFINITY) limit.rlim_max += 1;
  note("rlimit", ::setrlimit(RLIMIT_NOFILE, &limit));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "";
  if (what == "setid" && argc == 3) return setid(argv[2]);
  if (what == "devnodes" && argc == 2) return devnodes();
  if (what == "power" && argc == 4) return power(static_cast<pid_t>(std::atoi(argv[2])), argv[3]);
  std::fprintf(stderr, "usage: root_caller_probe setid FILE | devnodes | power PID FILE\n");
  return 2;
}
