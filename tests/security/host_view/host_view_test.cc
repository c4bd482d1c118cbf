// What the read-only host view of `jobtape run` still reaches: the host's
// services on filesystem sockets, and the jobtape home (the store, other
// jobs' events and kept /tmp). Each test runs host_view_probe inside the
// real binary and fails if the probe got through; a control run shows the
// same probe getting through where the sandbox means it to.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/fd_util.h"
#include "tests/cli_run/run_test_support.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const char* const kProbe = HOST_VIEW_PROBE;

// A directory outside /tmp (which is private inside anyway), so that only
// the sandbox's own hiding can keep a socket in it out of reach.
class OutsideTmpDir {
 public:
  explicit OutsideTmpDir(const fs::path& parent) {
    std::string pattern = (parent / "jobtape-host-view-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~OutsideTmpDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  bool made() const { return !path_.empty(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A host service: a listening unix socket nobody accepts on (the backlog
// takes the connection). "@NAME" is an abstract socket.
sandbox::UniqueFd listenAt(const std::string& path) {
  sandbox::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  socklen_t length = sizeof address;
  if (path.front() == '@') {
    address.sun_path[0] = '\0';
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  }
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd.get(), 8) != 0) {
    ADD_FAILURE() << "cannot listen at " << path << ": " << std::strerror(errno);
  }
  if (path.front() == '/') ::chmod(path.c_str(), 0777);
  return fd;
}

class HostViewTest : public ::testing::Test {
 protected:
  fs::path home() const { return homeDir_.path() / "home"; }
  const fs::path& project() const { return projectDir_.path(); }
  ProcessResult run(std::vector<std::string> args, ProcessOptions options = {}) {
    options.cwd = project();
    return runJobtapeToEnd(home(), args, options);
  }
  // The probe's one line of output, run in the default sandbox plus `extra`.
  std::string probe(const std::vector<std::string>& probeArgs, std::vector<std::string> extra = {},
                    ProcessOptions options = {}) {
    std::vector<std::string> args = {"run"};
    for (const std::string& bind : buildTreeBinds()) args.push_back(bind);
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", kProbe});
    args.insert(args.end(), probeArgs.begin(), probeArgs.end());
    ProcessResult result = run(args, options);
    EXPECT_EQ(result.exitStatus, 0) << result.err;
    return result.out;
  }
  TempDir homeDir_, projectDir_;
};

TEST_F(HostViewTest, SocketsUnderXdgRuntimeDirAreUnreachableUnlessBound) {
  OutsideTmpDir runtime("/var/tmp");
  if (!runtime.made()) GTEST_SKIP() << "no writable /var/tmp";
  fs::path socket = runtime.path() / "agent.sock";
  sandbox::UniqueFd service = listenAt(socket);
  // The read-only view alone does not stop connect(): that is the hole.
  EXPECT_EQ(probe({"connect", socket}, {}, {.unsetEnv = {"XDG_RUNTIME_DIR"}}), "connected\n");

  ProcessOptions asRuntime{.env = {{"XDG_RUNTIME_DIR", runtime.path().string()}}};
  EXPECT_EQ(probe({"connect", socket}, {}, asRuntime), "ENOENT\n");
  EXPECT_EQ(probe({"list", runtime.path()}, {}, asRuntime), "empty\n");
  // A recipe may still hand one socket to the job, on purpose.
  EXPECT_EQ(probe({"connect", socket}, {"--bind", socket}, asRuntime), "connected\n");
}

TEST_F(HostViewTest, SocketsUnderRunAreUnreachableUnlessBound) {
  OutsideTmpDir service("/run");
  if (!service.made()) GTEST_SKIP() << "/run is not writable for us (not root)";
  fs::path socket = service.path() / "docker.sock";
  sandbox::UniqueFd listening = listenAt(socket);
  EXPECT_EQ(probe({"connect", socket}), "ENOENT\n");
  EXPECT_EQ(probe({"list", "/run"}), "empty\n");
  // /var/run is the usual symlink to /run: inside it leads to the private one.
  EXPECT_EQ(probe({"connect", fs::path("/var/run") / service.path().filename() / socket.filename()}), "ENOENT\n");
  EXPECT_EQ(probe({"connect", socket}, {"--bind", socket}), "connected\n");
}

// Abstract sockets belong to the network namespace: private without
// --network, the host's with it (as README says).
TEST_F(HostViewTest, AbstractSocketsAreTheHostsOnlyWithNetwork) {
  std::string name = "@jobtape-host-view-" + std::to_string(::getpid());
  sandbox::UniqueFd service = listenAt(name);
  EXPECT_EQ(probe({"connect", name}), "ECONNREFUSED\n");
  EXPECT_EQ(probe({"connect", name}, {"--network"}), "connected\n");
}

TEST_F(HostViewTest, DevShmIsEmptyAndPrivate) {
  fs::path mine = fs::path("/dev/shm") / ("jobtape-host-view-" + std::to_string(::getpid()));
  int fd = ::open(mine.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) GTEST_SKIP() << "no /dev/shm on this host";
  ::close(fd);
  std::string seen = probe({"list", "/dev/shm"});
  fs::remove(mine);
  EXPECT_EQ(seen, "empty\n");
}

TEST_F(HostViewTest, TheHomeIsShownEmpty) {
  // Outside /tmp, which is private inside anyway: only the cover hides it.
  OutsideTmpDir parent("/var/tmp");
  if (!parent.made()) GTEST_SKIP() << "no writable /var/tmp";
  fs::path home = parent.path() / "home";
  auto probeWith = [&](const std::vector<std::string>& probeArgs, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run"};
    for (const std::string& bind : buildTreeBinds()) args.push_back(bind);
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", kProbe});
    args.insert(args.end(), probeArgs.begin(), probeArgs.end());
    ProcessResult result = runJobtapeToEnd(home, args, {.cwd = project()});
    EXPECT_EQ(result.exitStatus, 0) << result.err;
    return result.out;
  };
  // A first job leaves the store, its events file and its kept /tmp (and
  // shows the build tree, for the debug-shell below to find the probe).
  std::vector<std::string> firstArgs = {"run"};
  for (const std::string& bind : buildTreeBinds()) firstArgs.push_back(bind);
  firstArgs.insert(firstArgs.end(), {"--", "sh", "-c", "echo kept > /tmp/secret; exit 1"});
  auto first = runJobtapeToEnd(home, firstArgs, {.cwd = project()});
  ASSERT_EQ(first.exitStatus, 1) << first.err;
  ASSERT_TRUE(fs::exists(home / "jobtape.db"));
  EXPECT_EQ(probeWith({"list", parent.path()}), "home\n") << "the path itself is still there";
  EXPECT_EQ(probeWith({"list", home}), "empty\n");
  EXPECT_EQ(probeWith({"read", home / "jobtape.db"}), "ENOENT\n");
  // Wherever a bind shows it: here a read-only bind of its parent.
  std::string bind = parent.path().string() + ":/tmp/parent";
  EXPECT_EQ(probeWith({"list", "/tmp/parent"}, {"--ro-bind", bind}), "home\n");
  EXPECT_EQ(probeWith({"list", "/tmp/parent/home"}, {"--ro-bind", bind}), "empty\n");
  EXPECT_EQ(probeWith({"read", "/tmp/parent/home/jobtape.db"}, {"--ro-bind", bind}), "ENOENT\n");
  // Re-entering the failed job's sandbox does not show it either.
  auto shell = runJobtapeToEnd(home, {"job", "debug-shell", "--", kProbe, "list", home}, {.cwd = project()});
  EXPECT_EQ(shell.out, "empty\n") << shell.err;
}

TEST_F(HostViewTest, AHomeTheJobCouldWriteIsRefusedBeforeTheJobRuns) {
  fs::path inside = project() / "state";
  fs::path marker = project() / "ran";
  auto result = runJobtapeToEnd(inside, {"run", "--", "touch", marker}, {.cwd = project()});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: the jobtape home " + inside.string() + " lies inside "));
  EXPECT_THAT(result.err, HasSubstr("--home DIR"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_FALSE(fs::exists(marker)) << "the job ran";

  // The same home from the environment, and a bind of a part of a home.
  auto fromEnv = runProgramToEnd({jobtapeBinary().string(), "run", "--", "touch", marker.string()},
                                 {.env = {{"JOBTAPE_HOME", inside.string()}}, .cwd = project()});
  EXPECT_EQ(fromEnv.exitStatus, 2) << fromEnv.err;
  ASSERT_EQ(run({"run", "--", "true"}).exitStatus, 0);
  auto part = run({"run", "--ro-bind", (home() / "jobs").string() + ":/mnt/jobs", "--", "touch", marker});
  EXPECT_EQ(part.exitStatus, 2);
  EXPECT_THAT(part.err, HasSubstr("a part of the jobtape home"));
  EXPECT_FALSE(fs::exists(marker)) << "the job ran";
}

TEST_F(HostViewTest, ARecipeFileCannotSwitchTheSandboxOffOnItsOwn) {
  fs::path marker = fs::path("/var/tmp") / ("jobtape-unsandboxed-" + std::to_string(::getpid()));
  fs::path recipe = project() / "host.json";
  writeFile(recipe, "{\"command\": \"/bin/sh\", \"args\": [\"-c\", \"touch " + marker.string() +
                        "\"], \"workDir\": \"/\", \"sandboxed\": false}");
  auto refused = run({"run", "--recipe", recipe});
  EXPECT_EQ(refused.exitStatus, 2);
  EXPECT_THAT(refused.err, StartsWith("jobtape: error: recipe file " + recipe.string() +
                                      " asks to run without the sandbox"));
  EXPECT_THAT(refused.err, HasSubstr("--no-sandbox"));
  EXPECT_FALSE(fs::exists(marker)) << "the recipe ran on the host";

  auto accepted = run({"run", "--no-sandbox", "--recipe", recipe});
  EXPECT_EQ(accepted.exitStatus, 0) << accepted.err;
  EXPECT_TRUE(fs::exists(marker)) << "--no-sandbox accepts a recipe that asks for no sandbox";
  fs::remove(marker);

  // Nor does the store's record of such a job: retry does not run it on the host.
  auto retry = run({"job", "retry", "last"});
  EXPECT_EQ(retry.exitStatus, 1);
  EXPECT_THAT(retry.err, HasSubstr("was recorded without a sandbox"));
  EXPECT_THAT(retry.err, HasSubstr("jobtape job retry --no-sandbox"));
  EXPECT_FALSE(fs::exists(marker)) << "retry ran the recorded recipe on the host";
}

}  // namespace
}  // namespace jobtape::testing
