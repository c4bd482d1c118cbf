#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <system_error>

#ifndef JOBTAPE_SECCOMP_GENERATOR
#include "sandbox/seccomp_programs.h"
#endif

#if !defined(__x86_64__) && !defined(__aarch64__)
// Argument positions (clone's flags) and the foreign-architecture story are
// only checked for these two.
#error "the seccomp policy is written for x86_64 and aarch64"
#endif

namespace jobtape::sandbox {
namespace {

// Owns a libseccomp filter context.
struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

// Owns a plain fd (only used at compile time, in the parent).
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// libseccomp returns -errno and leaves errno alone.
void check(int rc, std::string_view what) {
  if (rc < 0) throw std::system_error(-rc, std::generic_category(), std::string(what));
}

Filter newFilter(uint32_t defaultAction, uint32_t badArchAction) {
  Filter ctx(seccomp_init(defaultAction));
  if (!ctx) throw std::system_error(ENOMEM, std::generic_category(), "seccomp_init");
  check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, badArchAction),
        "seccomp_attr_set(ACT_BADARCH)");
  // load() sets it itself, before the first filter; libseccomp never loads.
  check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set(CTL_NNP)");
  // A denylist over "allow" is checked on every system call of the job: a
  // binary search keeps that to a handful of instructions.
  check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "seccomp_attr_set(CTL_OPTIMIZE)");
  return ctx;
}

void addRule(const Filter& ctx, uint32_t action, const char* name,
             std::initializer_list<scmp_arg_cmp> args = {}) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) {
    throw std::system_error(EINVAL, std::generic_category(),
                            std::string("seccomp: unknown system call ") + name);
  }
  int rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(args.size()),
                                  args.size() ? args.begin() : nullptr);
  check(rc, std::string("seccomp_rule_add(") + name + ")");
}

// Calls that reach attack surface a build never needs, or that could undo
// the sandbox from inside. Kept in the order of the specification.
constexpr const char* kDeniedWithEperm[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key",
    "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module",
    "mount", "umount2", "pivot_root", "chroot",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "unshare", "setns",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "swapon", "swapoff", "reboot",
    "clock_settime", "clock_adjtime", "settimeofday", "adjtimex",
    "acct", "quotactl", "quotactl_fd",
};

// open_tree_attr (Linux 6.15) is open_tree plus mount_setattr; libseccomp
// 2.5 has no name for it. The number is the same on x86_64 and aarch64.
constexpr int kOpenTreeAttr = 467;

// Every namespace a clone() could create. CLONE_NEWTIME is missing on
// purpose: clone() reads its bit as part of the exit signal; only clone3 and
// unshare take it, and both are denied.
constexpr uint64_t kCloneNamespaceFlags[] = {
    CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

// The kernel reads ioctl's request and seccomp's operation as 32-bit ints;
// comparing all 64 bits lets a caller set high bits and slip past the rule
// while the kernel still sees the denied value (CVE-2019-10063).
constexpr uint64_t kLow32 = 0xFFFFFFFFu;

void addDenials(const Filter& ctx) {
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDeniedWithEperm) addRule(ctx, eperm, name);
  check(seccomp_rule_add(ctx.get(), eperm, kOpenTreeAttr, 0), "seccomp_rule_add(open_tree_attr)");

  // One rule a flag: "any of these bits set" is not one masked compare.
  for (uint64_t flag : kCloneNamespaceFlags) {
    addRule(ctx, eperm, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)});
  }
  // clone3 passes its flags in memory the filter cannot read: make callers
  // (glibc, Go, Rust std) fall back to clone, which the rules above inspect.
  addRule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3");

  // Pushing input into the terminal (CVE-2017-5226) or the Linux console.
  for (unsigned long request : {TIOCSTI, TIOCLINUX}) {
    addRule(ctx, eperm, "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, kLow32, request)});
  }
  // A second listener would let the job intercept its own system calls; the
  // kernel's one-listener-per-chain rule already says EBUSY behind ours.
  addRule(ctx, eperm, "seccomp",
          {SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, SECCOMP_SET_MODE_FILTER),
           SCMP_A1(SCMP_CMP_MASKED_EQ, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                   SECCOMP_FILTER_FLAG_NEW_LISTENER)});
}

// fchmodat2 (Linux 6.6) has the same number on x86_64 and aarch64;
// libseccomp 2.5 has no name for it.
constexpr int kFchmodat2 = 452;

// Kept apart from the rest: the two bits are tested one rule each, since
// "any of these bits set" is not one masked compare.
constexpr uint64_t kSetidBits[] = {S_ISUID, S_ISGID};

// Every call that sets a file's mode from an argument the filter can read:
// the chmod family, open/creat's mode (only read by the kernel with O_CREAT
// or O_TMPFILE) and mknod's (a regular file can be made with it). openat2
// passes its mode in a struct the filter cannot read: ENOSYS, so that libc
// and language runtimes fall back to openat, as for clone3.
void addSetidDenials(const Filter& ctx) {
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  // O_TMPFILE includes O_DIRECTORY; its own bit is what makes a new inode.
  constexpr uint64_t kTmpfileBit = O_TMPFILE & ~O_DIRECTORY;
  for (uint64_t bit : kSetidBits) {
    auto modeHas = [bit](unsigned arg) { return SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, bit, bit); };
    addRule(ctx, eperm, "chmod", {modeHas(1)});
    addRule(ctx, eperm, "fchmod", {modeHas(1)});
    addRule(ctx, eperm, "fchmodat", {modeHas(2)});
    check(seccomp_rule_add(ctx.get(), eperm, kFchmodat2, 1, modeHas(2)), "seccomp_rule_add(fchmodat2)");
    addRule(ctx, eperm, "creat", {modeHas(1)});
    addRule(ctx, eperm, "mknod", {modeHas(1)});
    addRule(ctx, eperm, "mknodat", {modeHas(2)});
    for (uint64_t creating : {static_cast<uint64_t>(O_CREAT), kTmpfileBit}) {
      addRule(ctx, eperm, "open", {SCMP_A1(SCMP_CMP_MASKED_EQ, creating, creating), modeHas(2)});
      addRule(ctx, eperm, "openat", {SCMP_A2(SCMP_CMP_MASKED_EQ, creating, creating), modeHas(3)});
    }
  }
  addRule(ctx, SCMP_ACT_ERRNO(ENOSYS), "openat2");
}

// Without network only AF_UNIX sockets (the job's own loopback lives in its
// own netns anyway; this also shuts netlink, packet and vsock). Two "!="
// conditions on one argument are ANDed within a rule, so "neither" is said
// with two range rules around AF_UNIX. The compares are on 64 bits: a domain
// with high bits set is refused even when its low half says AF_UNIX.
void addSocketRules(const Filter& ctx) {
  const uint32_t refuse = SCMP_ACT_ERRNO(EAFNOSUPPORT);
  for (const char* name : {"socket", "socketpair"}) {
    addRule(ctx, refuse, name, {SCMP_A0(SCMP_CMP_LT, AF_UNIX, 0)});  // datum_b unused by LT/GT
    addRule(ctx, refuse, name, {SCMP_A0(SCMP_CMP_GT, AF_UNIX, 0)});
  }
}

Filter buildPolicy(const SeccompPolicyConfig& config) {
  Filter ctx = newFilter(SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS);
  addDenials(ctx);
  if (!config.allowNetwork) addSocketRules(ctx);
  if (config.denySetid) addSetidDenials(ctx);
  return ctx;
}

// Foreign architectures are let through here: the policy filter, loaded in
// the same chain, kills them, and the strictest action of the chain wins.
Filter buildNotify() {
  Filter ctx = newFilter(SCMP_ACT_ALLOW, SCMP_ACT_ALLOW);
  addRule(ctx, SCMP_ACT_NOTIFY, "execve");
  addRule(ctx, SCMP_ACT_NOTIFY, "execveat");
  return ctx;
}

std::string readAll(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw std::system_error(errno, std::generic_category(), "fstat");
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(n < 0 ? errno : EIO, std::generic_category(), "pread");
    done += static_cast<size_t>(n);
  }
  return data;
}

OwnedFd newMemfd() {
  OwnedFd fd(::memfd_create("jobtape-seccomp", MFD_CLOEXEC));
  if (fd.get() < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
  return fd;
}

// libseccomp 2.5 can only export to an fd.
std::vector<sock_filter> exportBpf(const Filter& ctx) {
  OwnedFd fd = newMemfd();
  check(seccomp_export_bpf(ctx.get(), fd.get()), "seccomp_export_bpf");
  std::string bytes = readAll(fd.get());
  if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0 ||
      bytes.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
    throw std::system_error(EINVAL, std::generic_category(), "seccomp_export_bpf: bad program size");
  }
  std::vector<sock_filter> program(bytes.size() / sizeof(sock_filter));
  std::memcpy(program.data(), bytes.data(), bytes.size());
  return program;
}


}  // namespace

SeccompProgram SeccompProgram::compileWithLibseccomp(const SeccompPolicyConfig& config) {
  SeccompProgram program;
  program.policy_ = exportBpf(buildPolicy(config));
  if (config.traceExecs) program.notify_ = exportBpf(buildNotify());
  return program;
}

namespace {

#ifdef JOBTAPE_SECCOMP_GENERATOR
const void* precompiledFor(const SeccompPolicyConfig&) { return nullptr; }
#else
// The build's own program for `config`: libseccomp's output depends on its
// version and the rules only, and this one was made by the same version
// from the same rules (seccomp_policy_test checks it against a fresh
// compile). Another libseccomp at run time (a shared build) compiles anew.
const precompiled::Program* precompiledFor(const SeccompPolicyConfig& config) {
  const precompiled::Program& entry =
      precompiled::kPrograms[config.allowNetwork * 4 + config.traceExecs * 2 + config.denySetid];
  const scmp_version* running = seccomp_version();
  const unsigned* built = precompiled::kLibseccompVersion;
  if (!entry.present || running == nullptr || running->major != built[0] || running->minor != built[1] ||
      running->micro != built[2]) {
    return nullptr;
  }
  return &entry;
}
#endif

}  // namespace

bool SeccompProgram::builtIn(const SeccompPolicyConfig& config) { return precompiledFor(config) != nullptr; }

SeccompProgram SeccompProgram::compile(const SeccompPolicyConfig& config) {
#ifndef JOBTAPE_SECCOMP_GENERATOR
  if (const precompiled::Program* entry = precompiledFor(config)) {
    SeccompProgram program;
    program.policy_.assign(entry->policy, entry->policy + entry->policyLength);
    if (entry->notify != nullptr) program.notify_.assign(entry->notify, entry->notify + entry->notifyLength);
    return program;
  }
#endif
  return compileWithLibseccomp(config);
}

std::string seccompPolicyPfc(const SeccompPolicyConfig& config) {
  Filter ctx = buildPolicy(config);
  OwnedFd fd = newMemfd();
  check(seccomp_export_pfc(ctx.get(), fd.get()), "seccomp_export_pfc");
  return readAll(fd.get());
}

std::string syscallName(uint32_t arch, int nr) {
  // libseccomp's architecture tokens are the kernel's AUDIT_ARCH_* values.
  std::unique_ptr<char, decltype(&std::free)> name(seccomp_syscall_resolve_num_arch(arch, nr),
                                                   &std::free);
  if (!name) return "syscall " + std::to_string(nr);
  return name.get();
}

}  // namespace jobtape::sandbox
