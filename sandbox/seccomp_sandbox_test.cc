// The seccomp policy and the exec tracer end to end, through sandbox::run:
// try_syscall runs inside a real sandbox and every probe must get the
// policy's precise errno; a 32-bit system call must end the job as a seccomp
// violation; ptrace of a sibling must fail; a shell's execs must be recorded
// with argv and parent. When the tests run as root, each case runs again as
// nobody (a forked child drops to it and calls sandbox::run itself).
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/runner.h"
#include "sandbox/syscall_probes.h"

namespace jobtape::sandbox {
namespace {

namespace fs = std::filesystem;
namespace probes = jobtape::sandbox::probes;
using ::testing::HasSubstr;

enum class Who { caller, nobody };
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// What a run produced, flattened to text so a forked runner can send it.
struct Ran {
  std::string outcome;
  int exitCode = 0;
  int signal = 0;
  std::string violatingSyscall;
  std::string out;
  std::vector<std::string> execs;  // "pid ppid executable : argv..."
  std::vector<std::string> exits;  // "pid known code signal"
};

class Collector : public RunObserver {
 public:
  void onOutput(Stream stream, uint64_t, std::span<const char> bytes) override {
    if (stream == Stream::stdout_) ran.out.append(bytes.data(), bytes.size());
  }
  void onExec(const ExecRecord& exec) override {
    std::string line = std::to_string(exec.pid) + " " + std::to_string(exec.ppid) + " " + exec.executable + " :";
    for (const std::string& arg : exec.argv) line += " " + arg;
    ran.execs.push_back(line);
  }
  void onProcessExit(const ProcessExitRecord& exit) override {
    ran.exits.push_back(std::to_string(exit.pid) + " " + std::to_string(exit.statusKnown) + " " +
                        std::to_string(exit.exitCode) + " " + std::to_string(exit.signal));
  }
  Ran ran;
};

std::string encode(const Ran& ran) {
  std::ostringstream out;
  auto field = [&](const std::string& text) { out << text.size() << ":" << text; };
  field(ran.outcome);
  field(std::to_string(ran.exitCode));
  field(std::to_string(ran.signal));
  field(ran.violatingSyscall);
  field(ran.out);
  field(std::to_string(ran.execs.size()));
  for (const auto& line : ran.execs) field(line);
  field(std::to_string(ran.exits.size()));
  for (const auto& line : ran.exits) field(line);
  return out.str();
}

Ran decode(const std::string& text) {
  size_t at = 0;
  auto field = [&]() {
    size_t colon = text.find(':', at);
    if (colon == std::string::npos) throw std::runtime_error("truncated report: " + text);
    size_t size = std::stoul(text.substr(at, colon - at));
    std::string value = text.substr(colon + 1, size);
    at = colon + 1 + size;
    return value;
  };
  Ran ran;
  ran.outcome = field();
  ran.exitCode = std::stoi(field());
  ran.signal = std::stoi(field());
  ran.violatingSyscall = field();
  ran.out = field();
  for (size_t n = std::stoul(field()); n > 0; --n) ran.execs.push_back(field());
  for (size_t n = std::stoul(field()); n > 0; --n) ran.exits.push_back(field());
  return ran;
}

Ran runHere(const Recipe& recipe, bool traceExecs, const fs::path& stateDir) {
  RunOptions options;
  options.stateDir = stateDir;
  options.traceExecs = traceExecs;
  Collector collector;
  RunResult result = run(recipe, options, collector);
  collector.ran.outcome = outcomeName(result.outcome);
  collector.ran.exitCode = result.exitCode;
  collector.ran.signal = result.signal;
  collector.ran.violatingSyscall = result.violatingSyscall;
  return collector.ran;
}

class SandboxedSeccompTest : public ::testing::TestWithParam<Who> {
 protected:
  void SetUp() override {
    if (GetParam() == Who::nobody && ::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
    char pattern[] = "/tmp/jobtape-seccomp-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    stateDir_ = pattern;
    if (GetParam() == Who::nobody) {
      ASSERT_EQ(::chown(pattern, kNobody, kNogroup), 0);
    }
    trySyscall_ = fs::read_symlink("/proc/self/exe").parent_path() / "try_syscall";
    ASSERT_TRUE(fs::exists(trySyscall_)) << trySyscall_;
  }
  void TearDown() override {
    std::error_code ignored;
    if (!stateDir_.empty()) fs::remove_all(stateDir_, ignored);
  }

  // The host's / read-only, a private /tmp, the build tree visible where it is.
  Recipe recipe(std::vector<std::string> argv, bool network = false) const {
    Recipe r;
    r.command = argv.at(0);
    r.args.assign(argv.begin() + 1, argv.end());
    r.env = {{"PATH", "/usr/bin:/bin"}};
    r.workDir = "/tmp";
    r.mounts = {{Mount::Kind::roBind, "/", "/"}, {Mount::Kind::tmpfs, "", "/tmp"}};
    // A build tree under /tmp would be hidden by the private /tmp.
    std::string buildDir = std::filesystem::path(argv.at(0)).parent_path().string();
    if (buildDir.starts_with("/tmp/")) r.mounts.push_back({Mount::Kind::roBind, buildDir, buildDir});
    r.network = network;
    r.limits.timeoutMs = 120000;  // a hang is a failure, not a stuck suite
    return r;
  }

  Ran runAs(const Recipe& recipe, bool traceExecs = false) {
    if (GetParam() == Who::caller) return runHere(recipe, traceExecs, stateDir_);
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    pid_t child = ::fork();
    if (child == 0) {
      ::close(report[0]);
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
          ::setresuid(kNobody, kNobody, kNobody) != 0) {
        ::_exit(100);
      }
      ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
      std::string text;
      try {
        text = encode(runHere(recipe, traceExecs, stateDir_));
      } catch (const std::exception& e) {
        text = std::string("error: ") + e.what();
      }
      ssize_t ignored = ::write(report[1], text.data(), text.size());
      (void)ignored;
      ::_exit(0);
    }
    ::close(report[1]);
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(report[0], buffer, sizeof buffer)) > 0) text.append(buffer, n);
    ::close(report[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.starts_with("error: ")) {
      throw std::runtime_error("runner as nobody failed (status " + std::to_string(status) + "): " + text);
    }
    return decode(text);
  }

  std::map<std::string, int> probeResults(const std::string& out) {
    std::map<std::string, int> results;
    std::istringstream lines(out);
    std::string name;
    int value;
    while (lines >> name >> value) results[name] = value;
    return results;
  }

  fs::path stateDir_;
  fs::path trySyscall_;
};

TEST_P(SandboxedSeccompTest, EveryProbeGetsThePolicysErrnoInsideTheSandbox) {
  Ran ran = runAs(recipe({trySyscall_.string(), "all"}));
  ASSERT_EQ(ran.outcome, "exited") << ran.out;
  std::map<std::string, int> results = probeResults(ran.out);
  for (const probes::Probe& probe : probes::kProbes) {
    if (probe.filtered < 0) continue;
    ASSERT_TRUE(results.count(probe.name)) << probe.name << " missing in\n" << ran.out;
    EXPECT_EQ(results[probe.name], probe.filtered)
        << probe.name << ": " << strerror(results[probe.name]) << ", expected " << strerror(probe.filtered);
  }
}

TEST_P(SandboxedSeccompTest, NetworkRecipesKeepInetSockets) {
  Ran ran = runAs(recipe({trySyscall_.string(), "socket-inet", "socket-inet6", "socket-unix", "mount", "ptrace"}, true));
  ASSERT_EQ(ran.outcome, "exited") << ran.out;
  EXPECT_EQ(ran.out, "socket-inet 0\nsocket-inet6 0\nsocket-unix 0\nmount " + std::to_string(EPERM) +
                         "\nptrace " + std::to_string(EPERM) + "\n");
}

TEST_P(SandboxedSeccompTest, ThirtyTwoBitSystemCallEndsTheJobAsAViolation) {
  Ran ran = runAs(recipe({trySyscall_.string(), "chmod", "int80", "chmod"}));
  // It died in the call: nothing after it ran.
  EXPECT_EQ(ran.out, "chmod " + std::to_string(EFAULT) + "\nint80 ");
  EXPECT_EQ(ran.signal, SIGSYS);
  EXPECT_EQ(ran.exitCode, 128 + SIGSYS);
  EXPECT_EQ(ran.outcome, "seccomp-violation");
  EXPECT_FALSE(ran.violatingSyscall.empty());
}

TEST_P(SandboxedSeccompTest, X32SystemCallEndsTheJobAsAViolation) {
  Ran ran = runAs(recipe({trySyscall_.string(), "x32"}));
  EXPECT_EQ(ran.out, "x32 ");
  EXPECT_EQ(ran.signal, SIGSYS);
  EXPECT_EQ(ran.outcome, "seccomp-violation");
}

TEST_P(SandboxedSeccompTest, PtraceOfASiblingIsRefused) {
  std::string script = "sleep 60 & sibling=$!; '" + trySyscall_.string() +
                       "' ptrace-attach=$sibling; kill $sibling; wait";
  Recipe r = recipe({"/bin/sh", "-c", script});
  std::string buildDir = trySyscall_.parent_path().string();
  if (buildDir.starts_with("/tmp/")) r.mounts.push_back({Mount::Kind::roBind, buildDir, buildDir});
  Ran ran = runAs(r);
  EXPECT_EQ(ran.outcome, "exited");
  EXPECT_EQ(ran.out, "ptrace-attach " + std::to_string(EPERM) + "\n");
}

TEST_P(SandboxedSeccompTest, RecordsTheShellsExecsWithArgvAndParent) {
  Ran ran = runAs(recipe({"/bin/sh", "-c", "true; ls / >/dev/null; exit 5"}), /*traceExecs=*/true);
  EXPECT_EQ(ran.outcome, "exited");
  EXPECT_EQ(ran.exitCode, 5);
  // pid 1 is the sandbox's init; the command is its child, pid 2.
  EXPECT_THAT(ran.execs, ::testing::ElementsAre("2 1 /bin/sh : /bin/sh -c true; ls / >/dev/null; exit 5",
                                                "3 2 /usr/bin/ls : ls /"));
  EXPECT_THAT(ran.exits, ::testing::UnorderedElementsAre("3 1 0 0", "2 1 5 0"));
}

TEST_P(SandboxedSeccompTest, RecordsNothingWithoutTracing) {
  Ran ran = runAs(recipe({"/bin/sh", "-c", "ls / >/dev/null"}), /*traceExecs=*/false);
  EXPECT_EQ(ran.outcome, "exited");
  EXPECT_TRUE(ran.execs.empty());
  EXPECT_TRUE(ran.exits.empty());
}

TEST_P(SandboxedSeccompTest, TracedJobsCannotOpenASecondListener) {
  Ran ran = runAs(recipe({trySyscall_.string(), "seccomp-listener", "seccomp-listener-highbits"}), /*traceExecs=*/true);
  EXPECT_EQ(ran.out, "seccomp-listener " + std::to_string(EPERM) + "\nseccomp-listener-highbits " +
                         std::to_string(EPERM) + "\n");
  ASSERT_EQ(ran.execs.size(), 1u);
  EXPECT_THAT(ran.execs[0], HasSubstr(" : " + trySyscall_.string() + " seccomp-listener seccomp-listener-highbits"));
}

INSTANTIATE_TEST_SUITE_P(Callers, SandboxedSeccompTest, ::testing::Values(Who::caller, Who::nobody),
                         [](const auto& info) { return info.param == Who::caller ? "caller" : "nobody"; });

}  // namespace
}  // namespace jobtape::sandbox
