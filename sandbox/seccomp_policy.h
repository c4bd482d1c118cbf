// The sandbox's seccomp filters, compiled in the parent and loaded by the
// sandbox's pid 1, from which the main process and all of the job inherit
// them.
//
// Two filters, loaded in this order by SeccompProgram::load():
//
//  1. exec notify (only with traceExecs): execve and execveat raise a user
//     notification on a listener fd that the supervisor reads (exec_tracer.h).
//     It is created first because the deny policy forbids creating listeners,
//     and the kernel allows only one listener per filter chain anyway.
//  2. deny policy: a denylist over "allow", answering EPERM for the calls that
//     reach kernel attack surface or could undo the sandbox (ptrace, bpf,
//     mount APIs, namespace creation, keyrings, io_uring, ...), ENOSYS for
//     clone3 (its flags live in memory a filter cannot read, so callers must
//     fall back to clone, whose flags it can), EAFNOSUPPORT for non-AF_UNIX
//     sockets without network, and killing the whole process for any system
//     call of a foreign architecture (i386 via int 0x80, x32) because the
//     filter's numbers only describe the native one. With denySetid (a
//     root caller, whose files the host trusts) also EPERM for every way to
//     give a file the setuid or setgid bit, see addSetidDenials().
//
// Compiling allocates (libseccomp); loading must be async-signal-safe because
// it runs in the forked child, so the BPF is exported into memory at compile
// time and load() only issues prctl/seccomp system calls.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace jobtape::sandbox {

struct SeccompPolicyConfig {
  bool allowNetwork = false;
  bool traceExecs = false;
  // Refuse creating setuid/setgid files. Inside, every bind is nosuid, but a
  // root caller's files are root's on the host too: a setuid file left in
  // the project directory would run as root for any local user there.
  bool denySetid = false;
};

// A compiled BPF program, ready to load in the child without allocating.
class SeccompProgram {
 public:
  friend class InitPlanCodec;  // init_plan.cc: across the exec of pid 1

  // The program built into this binary at build time when the libseccomp
  // running now is the one that compiled it (sandbox/seccomp_programs_gen.cc),
  // else compileWithLibseccomp(config).
  static SeccompProgram compile(const SeccompPolicyConfig& config);
  // Throws std::system_error (libseccomp's error code) when libseccomp
  // refuses a rule or cannot export the program.
  static SeccompProgram compileWithLibseccomp(const SeccompPolicyConfig& config);
  // Whether compile(config) takes the built-in program.
  static bool builtIn(const SeccompPolicyConfig& config);

  // Child side, after fork, async-signal-safe: sets no_new_privs, loads the
  // exec-notify filter (if traceExecs) and returns its listener fd in
  // *listenerFd (-1 if none), then loads the deny policy. Returns 0 or an
  // errno value; on failure no listener fd is left open.
  //
  // The listener fd is O_CLOEXEC. The caller must hand it to the supervisor
  // and close its own copy BEFORE its next execve: that execve blocks until
  // the supervisor answers, and nobody can while the only copy of the fd is
  // held by the blocked process itself.
  int load(int* listenerFd) const noexcept;

  // Loads only the deny policy (no listener). Same contract as load().
  int loadPolicyOnly() const noexcept;

  bool operator==(const SeccompProgram& other) const;

  const std::vector<sock_filter>& policyProgram() const { return policy_; }
  const std::vector<sock_filter>& notifyProgram() const { return notify_; }
  bool tracesExecs() const { return !notify_.empty(); }

 private:
  std::vector<sock_filter> policy_;
  std::vector<sock_filter> notify_;  // empty without traceExecs
};

// The policy in libseccomp's human-readable pseudo filter code, for
// `jobtape`'s debugging and for tests. Throws std::system_error.
std::string seccompPolicyPfc(const SeccompPolicyConfig& config);

// Name of system call `nr` of audit architecture `arch` (AUDIT_ARCH_*, as in
// siginfo's si_arch), or "syscall <nr>" when libseccomp does not know it.
std::string syscallName(uint32_t arch, int nr);

// The policy kills only for calls of a foreign architecture; every other rule
// answers with an errno. A SIGSYS death of a sandboxed process, whose siginfo
// its parent never sees, is therefore described with this text.
inline constexpr const char* kForeignArchitectureViolation = "system call of a foreign architecture";

}  // namespace jobtape::sandbox
