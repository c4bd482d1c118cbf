// The seccomp policy on its own: a forked child loads the compiled program
// and tries each system call with harmless arguments (sandbox/syscall_probes.h).
// Each probe also runs in an unfiltered twin child, so a test shows that the
// policy, not some other check of the kernel, produced the errno.
//
// Both children first enter a user and mount namespace of their own, like the
// sandboxed process does: there the mount family passes its capability check
// and, unfiltered, fails on the bad pointer instead (EFAULT), which makes the
// policy's EPERM tell. When the tests run as root, every case runs a second
// time as nobody (the unprivileged path a user takes).
#include "sandbox/seccomp_policy.h"

#include <sys/wait.h>

#include "sandbox/run_outcome.h"
#include "sandbox/supervisor.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "sandbox/syscall_probes.h"

namespace jobtape::sandbox {
namespace {

namespace probes = jobtape::sandbox::probes;

enum class Who { caller, nobody };

struct ChildOutcome {
  std::string output;
  int status = 0;
};

void writeAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Becomes nobody (when asked) and enters fresh user + mount namespaces.
// Returns an error text, empty on success.
std::string becomeSandboxedCaller(Who who) {
  if (who == Who::nobody) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      return std::string("dropping to nobody: ") + strerror(errno);
    }
    // Changing ids made us undumpable, which hands /proc/self to root.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  }
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    return std::string("unshare: ") + strerror(errno);
  }
  // Mapped ids, as in the sandbox (an unmapped owner cannot nest namespaces).
  auto write = [](const char* path, const std::string& text) {
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
  };
  if (!write("/proc/self/setgroups", "deny") ||
      !write("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1") ||
      !write("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1")) {
    return std::string("id maps: ") + strerror(errno);
  }
  return {};
}

// Runs `body` in a forked child that writes its report to a pipe.
ChildOutcome inChild(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    writeAll(fds[1], body());
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildOutcome outcome;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) outcome.output.append(buffer, n);
  ::close(fds[0]);
  ::waitpid(pid, &outcome.status, 0);
  return outcome;
}

// name -> errno of every probe that does not kill, run by a child that loads
// `program` (or nothing).
std::map<std::string, int> probeAll(Who who, const SeccompProgram* program) {
  ChildOutcome outcome = inChild([&]() -> std::string {
    std::string error = becomeSandboxedCaller(who);
    if (!error.empty()) return "error " + error;
    if (program != nullptr) {
      if (int rc = program->loadPolicyOnly(); rc != 0) return std::string("error load: ") + strerror(rc);
    }
    std::string report;
    for (const probes::Probe& probe : probes::kProbes) {
      if (probe.filtered >= 0) report += std::string(probe.name) + " " + std::to_string(probe.run()) + "\n";
    }
    return report;
  });
  EXPECT_TRUE(WIFEXITED(outcome.status) && WEXITSTATUS(outcome.status) == 0) << outcome.status;
  std::map<std::string, int> results;
  std::istringstream lines(outcome.output);
  std::string name;
  int value;
  while (lines >> name >> value) results[name] = value;
  EXPECT_FALSE(outcome.output.starts_with("error")) << outcome.output;
  return results;
}

// Calls whose capability check (in the initial namespaces) or sysctl comes
// before any argument is read, so that unfiltered they may already say EPERM,
// and AF_UNSPEC, which no kernel supports (it still shows that the range rule
// below AF_UNIX works): only the filtered answer is asserted for them.
const std::set<std::string> kKernelMayAgree = {
    "socket-unspec",
    "bpf", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "swapon", "swapoff", "reboot", "acct", "quotactl", "userfaultfd", "perf_event_open",
};

class SeccompPolicyTest : public ::testing::TestWithParam<Who> {
 protected:
  void SetUp() override {
    if (GetParam() == Who::nobody && ::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  }
};

TEST_P(SeccompPolicyTest, AnswersEveryProbeWithThePolicysErrno) {
  SeccompProgram program = SeccompProgram::compile({});
  std::map<std::string, int> unfiltered = probeAll(GetParam(), nullptr);
  std::map<std::string, int> filtered = probeAll(GetParam(), &program);
  for (const probes::Probe& probe : probes::kProbes) {
    if (probe.filtered < 0) continue;
    SCOPED_TRACE(probe.name);
    ASSERT_TRUE(filtered.count(probe.name));
    EXPECT_EQ(filtered[probe.name], probe.filtered) << strerror(filtered[probe.name]);
    bool denied = probe.filtered == EPERM || probe.filtered == ENOSYS || probe.filtered == EAFNOSUPPORT;
    if (denied && !kKernelMayAgree.count(probe.name)) {
      EXPECT_NE(unfiltered[probe.name], probe.filtered)
          << "the kernel already answers " << strerror(probe.filtered) << " without the policy";
    }
  }
}

TEST_P(SeccompPolicyTest, AllowedCallsBehaveAsWithoutThePolicy) {
  SeccompProgram program = SeccompProgram::compile({});
  std::map<std::string, int> unfiltered = probeAll(GetParam(), nullptr);
  std::map<std::string, int> filtered = probeAll(GetParam(), &program);
  for (const char* name : {"chmod", "clone", "pthread_create", "posix_spawn", "socket-unix", "socketpair-unix",
                           "ioctl-TIOCNOTTY", "seccomp-filter"}) {
    EXPECT_EQ(filtered[name], unfiltered[name]) << name;
  }
}

TEST_P(SeccompPolicyTest, NetworkRecipesKeepEverySocketFamily) {
  SeccompProgram program = SeccompProgram::compile({.allowNetwork = true});
  std::map<std::string, int> filtered = probeAll(GetParam(), &program);
  EXPECT_EQ(filtered["socket-inet"], 0);
  EXPECT_EQ(filtered["socket-inet6"], 0);
  EXPECT_EQ(filtered["socket-netlink"], 0);
  EXPECT_EQ(filtered["socketpair-unix"], 0);
  EXPECT_EQ(filtered["mount"], EPERM);  // the rest of the policy still holds
}

// The foreign-architecture probes must kill the whole process with SIGSYS.
int statusAfterProbe(Who who, const char* name, bool filtered) {
  SeccompProgram program = SeccompProgram::compile({});
  ChildOutcome outcome = inChild([&]() -> std::string {
    std::string error = becomeSandboxedCaller(who);
    if (!error.empty()) return error;
    if (filtered && program.loadPolicyOnly() != 0) return "load failed";
    return std::to_string(probes::findProbe(name)->run());
  });
  return outcome.status;
}

TEST_P(SeccompPolicyTest, KillsThirtyTwoBitSystemCalls) {
  int status = statusAfterProbe(GetParam(), "int80", true);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
  // Unfiltered, the same int 0x80 getpid simply works.
  status = statusAfterProbe(GetParam(), "int80", false);
  EXPECT_TRUE(WIFEXITED(status)) << status;
}

TEST_P(SeccompPolicyTest, KillsX32SystemCalls) {
  int status = statusAfterProbe(GetParam(), "x32", true);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

TEST_P(SeccompPolicyTest, ExecNotifyHandsOutACloexecListenerBeforeThePolicy) {
  SeccompProgram program = SeccompProgram::compile({.traceExecs = true});
  ASSERT_TRUE(program.tracesExecs());
  ChildOutcome outcome = inChild([&]() -> std::string {
    std::string error = becomeSandboxedCaller(GetParam());
    if (!error.empty()) return error;
    int listener = -2;
    if (int rc = program.load(&listener); rc != 0) return std::string("load: ") + strerror(rc);
    std::string report = "listener " + std::to_string(listener >= 0);
    report += " cloexec " + std::to_string((::fcntl(listener, F_GETFD) & FD_CLOEXEC) != 0);
    // No second listener: the policy refuses before the kernel's EBUSY.
    report += " second " + std::to_string(probes::findProbe("seccomp-listener")->run());
    // With nobody left to answer, a notified execve fails with ENOSYS
    // instead of hanging: the listener must reach the supervisor first.
    ::close(listener);
    char* const argv[] = {const_cast<char*>("true"), nullptr};
    ::execve("/bin/true", argv, nullptr);
    report += " execve " + std::to_string(errno);
    return report;
  });
  EXPECT_EQ(outcome.output, "listener 1 cloexec 1 second " + std::to_string(EPERM) + " execve " +
                                std::to_string(ENOSYS));
}

INSTANTIATE_TEST_SUITE_P(Callers, SeccompPolicyTest, ::testing::Values(Who::caller, Who::nobody),
                         [](const auto& info) { return info.param == Who::caller ? "caller" : "nobody"; });

// The policy holds across execve: the try_syscall program, exec'd by a
// filtered child, sees the same answers.
TEST(SeccompPolicyExecTest, HoldsAcrossExecve) {
  std::filesystem::path trySyscall = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "try_syscall";
  ASSERT_TRUE(std::filesystem::exists(trySyscall)) << trySyscall;
  SeccompProgram program = SeccompProgram::compile({});
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    if (!becomeSandboxedCaller(Who::caller).empty() || program.loadPolicyOnly() != 0) ::_exit(99);
    ::execl(trySyscall.c_str(), "try_syscall", "all", "int80", static_cast<char*>(nullptr));
    ::_exit(98);
  }
  ::close(fds[1]);
  std::string output;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) output.append(buffer, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << "\n" << output;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
  for (const probes::Probe& probe : probes::kProbes) {
    if (probe.filtered < 0) continue;
    EXPECT_NE(output.find(std::string(probe.name) + " " + std::to_string(probe.filtered) + "\n"),
              std::string::npos)
        << probe.name << " in\n" << output;
  }
  // The last line is the call it died in.
  EXPECT_TRUE(output.ends_with("int80 ")) << output;
}

TEST(SeccompPolicyCompileTest, IsDeterministicAndDependsOnTheConfig) {
  auto a = SeccompProgram::compile({});
  auto b = SeccompProgram::compile({});
  auto net = SeccompProgram::compile({.allowNetwork = true});
  auto sameBytes = [](const std::vector<sock_filter>& x, const std::vector<sock_filter>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(sock_filter)) == 0;
  };
  EXPECT_TRUE(sameBytes(a.policyProgram(), b.policyProgram()));
  EXPECT_FALSE(sameBytes(a.policyProgram(), net.policyProgram()));
  EXPECT_TRUE(a.notifyProgram().empty());
  EXPECT_FALSE(a.tracesExecs());
}

TEST(SeccompPolicyCompileTest, PseudoCodeNamesTheDeniedCalls) {
  std::string pfc = seccompPolicyPfc({});
  for (const char* name : {"ptrace", "clone3", "pivot_root", "io_uring_setup", "socket"}) {
    EXPECT_NE(pfc.find(std::string("\"") + name + "\""), std::string::npos) << name;
  }
  EXPECT_NE(pfc.find("KILL_PROCESS"), std::string::npos);
  EXPECT_EQ(seccompPolicyPfc({.allowNetwork = true}).find("\"socket\""), std::string::npos);
}

// Each way a file gets its mode, tried in a fresh directory by a child that
// loads `program` (or nothing): name -> errno (0: it worked).
std::map<std::string, int> modeCalls(const SeccompProgram* program) {
  std::string dir = (std::filesystem::temp_directory_path() / "jobtape-setid-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
  ChildOutcome outcome = inChild([&]() -> std::string {
    if (program != nullptr && program->loadPolicyOnly() != 0) return "error load";
    int dirFd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    std::string file = dir + "/f";
    ::close(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755));
    int fileFd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    std::string report;
    auto note = [&](const char* name, long rc) {
      report += std::string(name) + " " + std::to_string(rc < 0 ? errno : 0) + "\n";
      if (rc > 2) ::close(static_cast<int>(rc));
    };
    note("chmod-4755", ::chmod(file.c_str(), 04755));
    note("chmod-2755", ::chmod(file.c_str(), 02755));
    note("chmod-0755", ::chmod(file.c_str(), 0755));
    note("fchmod-4755", ::fchmod(fileFd, 04755));
    note("fchmodat-6755", ::syscall(SYS_fchmodat, dirFd, "f", 06755));
    note("fchmodat2-4755", ::syscall(452, dirFd, "f", 04755, 0));
    note("open-creat-4755", ::syscall(SYS_open, (dir + "/a").c_str(), O_WRONLY | O_CREAT, 04755));
    note("open-creat-0755", ::syscall(SYS_open, (dir + "/b").c_str(), O_WRONLY | O_CREAT, 0755));
    note("open-tmpfile-2755", ::syscall(SYS_open, dir.c_str(), O_WRONLY | O_TMPFILE, 02755));
    note("openat-creat-2755", ::syscall(SYS_openat, dirFd, "c", O_WRONLY | O_CREAT, 02755));
    note("openat-creat-0644", ::syscall(SYS_openat, dirFd, "d", O_WRONLY | O_CREAT, 0644));
    note("open-no-creat-4755", ::syscall(SYS_open, file.c_str(), O_RDONLY, 04755));
    note("creat-4755", ::syscall(SYS_creat, (dir + "/e").c_str(), 04755));
    note("mknod-4755", ::syscall(SYS_mknod, (dir + "/g").c_str(), S_IFREG | 04755, 0));
    note("mknodat-2755", ::syscall(SYS_mknodat, dirFd, "h", S_IFREG | 02755, 0));
    note("mknodat-0644", ::syscall(SYS_mknodat, dirFd, "i", S_IFREG | 0644, 0));
    struct open_how how = {.flags = O_RDONLY, .mode = 0, .resolve = 0};
    note("openat2", ::syscall(SYS_openat2, dirFd, "f", &how, sizeof how));
    return report;
  });
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(outcome.output.starts_with("error")) << outcome.output;
  std::map<std::string, int> results;
  std::istringstream lines(outcome.output);
  std::string name;
  int value;
  while (lines >> name >> value) results[name] = value;
  return results;
}

// A root caller's job must not leave a setuid or setgid file on the host;
// every other mode, and every other caller, is untouched.
TEST(SeccompSetidTest, RootCallersPolicyRefusesEverySetidMode) {
  SeccompProgram program = SeccompProgram::compile({.denySetid = true});
  std::map<std::string, int> filtered = modeCalls(&program);
  std::map<std::string, int> unfiltered = modeCalls(nullptr);
  ASSERT_EQ(filtered.size(), 17u);
  for (const auto& [name, error] : filtered) {
    SCOPED_TRACE(name);
    EXPECT_EQ(unfiltered[name], 0) << strerror(unfiltered[name]);
    bool setid = name.ends_with("4755") || name.ends_with("2755") || name.ends_with("6755");
    if (name == "openat2") {
      EXPECT_EQ(error, ENOSYS) << "openat2's mode cannot be read: callers must fall back to openat";
    } else if (setid && name != "open-no-creat-4755") {
      EXPECT_EQ(error, EPERM) << strerror(error);
    } else {
      EXPECT_EQ(error, 0) << strerror(error);
    }
  }
}

TEST(SeccompSetidTest, OtherCallersKeepSetidModes) {
  SeccompProgram program = SeccompProgram::compile({});
  for (const auto& [name, error] : modeCalls(&program)) EXPECT_EQ(error, 0) << name << ": " << strerror(error);
  EXPECT_EQ(seccompPolicyPfc({}).find("\"fchmod\""), std::string::npos);
  EXPECT_NE(seccompPolicyPfc({.denySetid = true}).find("\"fchmod\""), std::string::npos);
}

#if defined(__x86_64__)
// How a SIGSYS death under the policy is told: only a foreign architecture's
// call is killed, and /proc/PID/syscall gives an x32 call's number with bit
// 30 set (when pid 1 could still read it), which is no native call.
TEST(SyscallNameTest, AKilledX32CallIsAForeignArchitecturesWhateverWasRead) {
  Recipe recipe;
  auto told = [&](int64_t nr) {
    SupervisionReport report;
    ChildMessage exited;
    exited.kind = ChildMessage::mainExited;
    exited.waitCode = CLD_KILLED;
    exited.waitStatus = SIGSYS;
    exited.syscallNr = nr;
    report.mainExited = exited;
    return describeOutcome(report, {.recipe = &recipe, .sandboxed = true}).violatingSyscall;
  };
  EXPECT_EQ(told(-1), kForeignArchitectureViolation);
  EXPECT_EQ(told(0x40000000 + 39), std::string(kForeignArchitectureViolation) + " (x32 getpid)");
  EXPECT_EQ(told(101), "ptrace") << "a job's own filter kills native calls";
}

TEST(SyscallNameTest, ResolvesNativeAndForeignNumbers) {
  EXPECT_EQ(syscallName(AUDIT_ARCH_X86_64, 101), "ptrace");
  EXPECT_EQ(syscallName(AUDIT_ARCH_I386, 20), "getpid");
  EXPECT_EQ(syscallName(AUDIT_ARCH_X86_64, 99999), "syscall 99999");
  EXPECT_EQ(syscallName(0x12345678, 1), "syscall 1");
}
#endif

// The programs built in at build time are used only as what libseccomp
// makes from the same rules now: byte for byte, for every configuration.
TEST(SeccompProgramTest, TheBuiltInProgramsAreWhatLibseccompMakesHere) {
  for (int index = 0; index < 8; ++index) {
    SeccompPolicyConfig config{.allowNetwork = (index & 4) != 0, .traceExecs = (index & 2) != 0,
                               .denySetid = (index & 1) != 0};
    EXPECT_TRUE(SeccompProgram::builtIn(config)) << "configuration " << index << " is compiled at every start";
    EXPECT_TRUE(SeccompProgram::compile(config) == SeccompProgram::compileWithLibseccomp(config))
        << "configuration " << index;
  }
}

}  // namespace
}  // namespace jobtape::sandbox
