/* Run inside `jobtape run`: leaves in the job's private /tmp the trees a
 * hostile job makes to defeat gc, then fails so that the state is kept.
 *
 *   deep_tree_probe DEPTH OUTSIDE_DIR
 *
 * /tmp/deep: a chain of DEPTH directories (deeper than gc's open-file
 * limit), made with mkdirat/openat so that no path outgrows PATH_MAX.
 * /tmp/locked: directories of mode 000 and 0500, a file of mode 000.
 * /tmp/link, /tmp/locked/ro/link: symlinks to OUTSIDE_DIR, which gc must not
 * follow. /tmp/fifo: a fifo. Prints what it made; exits 1. */
#include <cerrno>
#include <fcntl.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char* what) {
  printf("probe: %s: %s\n", what, strerror(errno));
  return 2;
}

int main(int argc, char** argv) {
  if (argc != 3) return fail("usage: deep_tree_probe DEPTH OUTSIDE_DIR");
  long depth = strtol(argv[1], nullptr, 10);
  if (mkdir("/tmp/deep", 0700) != 0) return fail("mkdir /tmp/deep");
  int fd = open("/tmp/deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (long i = 0; i < depth; ++i) {
    if (fd < 0 || mkdirat(fd, "d", 0700) != 0) return fail("mkdirat");
    int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    fd = next;
  }
  if (fd < 0) return fail("openat");
  int file = openat(fd, "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (file < 0) return fail("bottom");
  close(file);
  close(fd);

  if (mkdir("/tmp/locked", 0700) != 0 || mkdir("/tmp/locked/none", 0700) != 0 ||
      mkdir("/tmp/locked/none/inner", 0700) != 0 || mkdir("/tmp/locked/ro", 0700) != 0) {
    return fail("mkdir /tmp/locked");
  }
  file = open("/tmp/locked/none/inner/zero", O_WRONLY | O_CREAT | O_CLOEXEC, 0);
  if (file < 0) return fail("zero");
  close(file);
  if (symlink(argv[2], "/tmp/link") != 0 || symlink(argv[2], "/tmp/locked/ro/link") != 0) return fail("symlink");
  if (mkfifo("/tmp/fifo", 0600) != 0) return fail("mkfifo");
  if (chmod("/tmp/locked/none/inner", 0) != 0 || chmod("/tmp/locked/none", 0) != 0 ||
      chmod("/tmp/locked/ro", 0500) != 0 || chmod("/tmp/locked", 0500) != 0) {
    return fail("chmod");
  }
  printf("probe: made a tree %ld deep, mode 000 and 0500 directories, links to %s\n", depth, argv[2]);
  return 1;
}
