// Preloaded into jobtape by bench/callgrind_run_true.sh. Valgrind (3.19)
// answers ENOSYS to system calls it has no wrapper for, and the sandbox
// needs several: seccomp(2) (libseccomp's feature probes in the supervisor,
// the filters loaded in the cloned child, which runs under valgrind until it
// execs), pidfd_open, pidfd_send_signal, openat2 and the mount API (open_tree,
// move_mount, fsopen, fsconfig, fsmount, mount_setattr). This library
// replaces libc's syscall() and those wrappers and makes these calls on the
// real CPU, outside the instrumentation, through valgrind's client-call
// request. They touch no memory mapping, so valgrind's view stays right;
// their instructions are the kernel's and would not be counted anyway. Every
// other system call goes to libc. Outside valgrind it only forwards. Loaded
// into the program under valgrind, it takes LD_PRELOAD out of the
// environment, so that the job does not inherit it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <valgrind/valgrind.h>

// Not in valgrind's own launcher, which also loads it and must pass it on.
__attribute__((constructor)) static void forgetPreload(void) {
  if (RUNNING_ON_VALGRIND) unsetenv("LD_PRELOAD");
}

struct Call {
  long number;
  long args[6];
};

// Runs natively (valgrind passes its thread id first); returns -errno.
static long nativeSyscall(long tid, struct Call* call) {
  (void)tid;
  long ret;
  register long r10 __asm__("r10") = call->args[3];
  register long r8 __asm__("r8") = call->args[4];
  register long r9 __asm__("r9") = call->args[5];
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "0"(call->number), "D"(call->args[0]), "S"(call->args[1]), "d"(call->args[2]), "r"(r10),
                     "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

static long native(long number, long a0, long a1, long a2, long a3, long a4, long a5) {
  struct Call call = {number, {a0, a1, a2, a3, a4, a5}};
  long ret = (long)VALGRIND_NON_SIMD_CALL1(nativeSyscall, &call);
  if (ret < 0 && ret > -4096) {
    errno = (int)-ret;
    return -1;
  }
  return ret;
}

static int unknownToValgrind(long number) {
  switch (number) {
    case SYS_seccomp:
    case SYS_pidfd_open:
    case SYS_pidfd_send_signal:
    case SYS_open_tree:
    case SYS_move_mount:
    case SYS_fsopen:
    case SYS_fsconfig:
    case SYS_fsmount:
    case SYS_fspick:
    case SYS_mount_setattr:
    case SYS_openat2:
      return 1;
    default:
      return 0;
  }
}

long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; ++i) a[i] = va_arg(ap, long);
  va_end(ap);
  if (RUNNING_ON_VALGRIND && unknownToValgrind(number)) return native(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  static long (*libcSyscall)(long, ...);
  if (libcSyscall == 0) libcSyscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return libcSyscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

// glibc's own wrappers of the mount API, called by name.
#define L(x) ((long)(x))
int open_tree(int dfd, const char* path, unsigned flags) {
  return (int)syscall(SYS_open_tree, L(dfd), L(path), L(flags), 0L, 0L, 0L);
}
int move_mount(int fromDfd, const char* fromPath, int toDfd, const char* toPath, unsigned flags) {
  return (int)syscall(SYS_move_mount, L(fromDfd), L(fromPath), L(toDfd), L(toPath), L(flags), 0L);
}
int fsopen(const char* name, unsigned flags) { return (int)syscall(SYS_fsopen, L(name), L(flags), 0L, 0L, 0L, 0L); }
int fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return (int)syscall(SYS_fsconfig, L(fd), L(cmd), L(key), L(value), L(aux), 0L);
}
int fsmount(int fd, unsigned flags, unsigned attrFlags) {
  return (int)syscall(SYS_fsmount, L(fd), L(flags), L(attrFlags), 0L, 0L, 0L);
}
int fspick(int dfd, const char* path, unsigned flags) {
  return (int)syscall(SYS_fspick, L(dfd), L(path), L(flags), 0L, 0L, 0L);
}
int mount_setattr(int dfd, const char* path, unsigned flags, void* attr, unsigned long size) {
  return (int)syscall(SYS_mount_setattr, L(dfd), L(path), L(flags), L(attr), L(size), 0L);
}
