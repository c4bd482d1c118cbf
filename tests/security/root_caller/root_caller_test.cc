// What a root caller's job can change on the host: setuid files left in the
// project directory, the host's device nodes behind the sandbox's /dev, and
// whatever else root could do (mount, hostname, /proc/sys, host files, host
// processes, rlimits). root_caller_probe runs inside the real binary; each
// test checks the host afterwards, not only what the probe says. The setid
// refusal is for root callers only; as nobody the same chmod must work.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli_run/run_test_support.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::Key;

const char* const kProbe = ROOT_CALLER_PROBE;

class RootCallerTest : public ::testing::Test {
 protected:
  fs::path home() const { return homeDir_.path() / "home"; }
  const fs::path& project() const { return projectDir_.path(); }
  // name -> "ok" or an errno name, from the probe run in the default sandbox.
  std::map<std::string, std::string> probe(const std::vector<std::string>& probeArgs) {
    std::vector<std::string> args = {"run"};
    for (const std::string& bind : buildTreeBinds()) args.push_back(bind);
    args.insert(args.end(), {"--", kProbe});
    args.insert(args.end(), probeArgs.begin(), probeArgs.end());
    ProcessResult result = runJobtapeToEnd(home(), args, {.cwd = project()});
    EXPECT_EQ(result.exitStatus, 0) << result.err;
    std::map<std::string, std::string> answers;
    std::istringstream lines(result.out);
    for (std::string name, answer; lines >> name >> answer;) answers[name] = answer;
    return answers;
  }
  TempDir homeDir_, projectDir_;
};

TEST_F(RootCallerTest, ARootCallersJobCannotLeaveASetidFile) {
  if (!runningAsRoot()) GTEST_SKIP() << "the refusal is for root callers";
  fs::path file = project() / "tool";
  writeFile(file, "#!/bin/sh\n");
  auto answers = probe({"setid", file});
  EXPECT_EQ(answers["chmod-4755"], "EPERM");
  EXPECT_EQ(answers["chmod-2755"], "EPERM");
  EXPECT_EQ(answers["open-4755"], "EPERM");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << std::oct << st.st_mode;
  EXPECT_FALSE(fs::exists(project() / "tool.new"));
  // The same through the tools a build uses; a plain mode still works.
  auto chmod = runJobtapeToEnd(home(), {"run", "--", "sh", "-c", "chmod 4755 tool; echo $?; chmod 755 tool; echo $?"},
                               {.cwd = project()});
  EXPECT_EQ(chmod.out, "1\n0\n") << chmod.err;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << std::oct << st.st_mode;
}

// `make install` of a setuid program into a DESTDIR: the bit grants nobody
// anything they do not have, and must keep working.
TEST_F(RootCallerTest, OtherCallersStillSetTheSetuidBit) {
  if (runningAsRoot()) GTEST_SKIP() << "runs as nobody (the _as_nobody variant)";
  fs::path file = project() / "tool";
  writeFile(file, "#!/bin/sh\n");
  auto answers = probe({"setid", file});
  EXPECT_EQ(answers["chmod-4755"], "ok");
  EXPECT_EQ(answers["open-4755"], "ok");
  auto install = runJobtapeToEnd(home(), {"run", "--", "sh", "-c", "mkdir -p dest/bin && install -m 4755 tool dest/bin/tool"},
                                 {.cwd = project()});
  EXPECT_EQ(install.exitStatus, 0) << install.err;
  struct stat st {};
  ASSERT_EQ(::stat((project() / "dest/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u) << std::oct << st.st_mode;
}

struct NodeState {
  mode_t mode;
  uid_t uid;
  gid_t gid;
  struct timespec mtime;
};

NodeState hostNode(const std::string& name) {
  struct stat st {};
  EXPECT_EQ(::stat(("/dev/" + name).c_str(), &st), 0) << name;
  return {st.st_mode, st.st_uid, st.st_gid, st.st_mtim};
}

TEST_F(RootCallerTest, TheHostsDeviceNodesCannotBeChanged) {
  auto before = [] {
    std::map<std::string, NodeState> nodes;
    for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
      if (fs::exists(fs::path("/dev") / name)) nodes[name] = hostNode(name);
    }
    return nodes;
  }();
  auto answers = probe({"devnodes"});
  ASSERT_THAT(answers, Contains(Key("null:chmod")));
  EXPECT_EQ(answers["null:write"], "ok") << "a read-only bind keeps the device writable";
  EXPECT_EQ(answers["zero:write"], "ok");
  int nodes = 0;
  for (const auto& [key, answer] : answers) {
    std::string node = key.substr(0, key.find(':'));
    std::string call = key.substr(key.find(':') + 1);
    if (call == "write") continue;
    ++nodes;
    EXPECT_NE(answer, "ok") << call << " of /dev/" << node << " worked inside";
    ASSERT_TRUE(before.count(node)) << "/dev/" << node << " is not one of the host's nodes we know";
    NodeState after = hostNode(node);
    EXPECT_EQ(after.mode, before[node].mode) << node;
    EXPECT_EQ(after.uid, before[node].uid) << node;
    EXPECT_EQ(after.gid, before[node].gid) << node;
    EXPECT_EQ(after.mtime.tv_sec, before[node].mtime.tv_sec) << node;
    EXPECT_EQ(after.mtime.tv_nsec, before[node].mtime.tv_nsec) << node;
  }
  EXPECT_GE(nodes, 5 * 5);  // five calls on each of at least null zero full random urandom
}

TEST_F(RootCallerTest, RunningAsRootGivesNoExtraPowerInside) {
  char hostname[HOST_NAME_MAX + 1] = {};
  ::gethostname(hostname, sizeof hostname);
  // A host process, and a host file outside every bind (not under /tmp,
  // which is private inside).
  pid_t sleeper = ::fork();
  if (sleeper == 0) {
    ::execl("/bin/sleep", "sleep", "600", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string dirPattern = "/var/tmp/jobtape-root-caller-XXXXXX";
  ASSERT_NE(::mkdtemp(dirPattern.data()), nullptr);
  fs::path hostFile = fs::path(dirPattern) / "file";
  writeFile(hostFile, "host\n");
  ::chmod(hostFile.c_str(), 0666);

  auto answers = probe({"power", std::to_string(sleeper), hostFile});

  char after[HOST_NAME_MAX + 1] = {};
  ::gethostname(after, sizeof after);
  int status = 0;
  pid_t reaped = ::waitpid(sleeper, &status, WNOHANG);
  std::string content = readFile(hostFile);
  struct stat st {};
  ::stat(hostFile.c_str(), &st);
  ::kill(sleeper, SIGKILL);
  ::waitpid(sleeper, nullptr, 0);
  fs::remove_all(dirPattern);

  for (const char* call : {"mount", "sethostname", "proc-sys", "host-file-write", "host-file-chmod", "kill", "rlimit"}) {
    ASSERT_TRUE(answers.count(call)) << call;
    EXPECT_NE(answers[call], "ok") << call << " worked inside";
  }
  EXPECT_EQ(answers["mount"], "EPERM");
  EXPECT_EQ(answers["kill"], "ESRCH") << "a host pid names nothing inside";
  EXPECT_STREQ(after, hostname);
  EXPECT_EQ(reaped, 0) << "the host process died";
  EXPECT_EQ(content, "host\n");
  EXPECT_EQ(st.st_mode & 07777, 0666u);
}

}  // namespace
}  // namespace jobtape::testing
