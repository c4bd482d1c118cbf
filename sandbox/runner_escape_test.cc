// Escapes: each test tries one way out of the sandbox and asserts the precise
// failure, plus a positive control where one makes sense (so a test cannot
// pass because nothing ran). After bubblewrap's tests/test-run.sh. Runs as
// the caller and, in CI, again as nobody.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/runner.h"
#include "sandbox/runner_test_support.h"

namespace jobtape::sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace jobtape::sandbox::testing;

std::string runForOutput(const Recipe& recipe, RunResult* result = nullptr) {
  CollectingObserver o;
  RunResult r = run(recipe, {}, o);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.message << "\nstderr: " << o.err();
  if (result != nullptr) *result = r;
  return o.out();
}

std::string tryWrite(Recipe recipe, const std::string& path) {
  recipe.args = {"write", path};
  return runForOutput(recipe);
}

// Only what the helper needs to run: no host root below the new one.
Recipe minimalRecipe(std::vector<std::string> args) {
  Recipe r = helperRecipe(std::move(args));
  std::string helperDir = std::filesystem::path(helperPath()).parent_path().string();
  r.mounts = {{Mount::Kind::roBind, "/usr", ""}, {Mount::Kind::roBind, "/usr/lib", "/lib"},
              {Mount::Kind::roBind, "/usr/lib64", "/lib64"}, {Mount::Kind::tmpfs, "", "/tmp"},
              {Mount::Kind::roBind, helperDir, ""}};
  return r;
}

TEST(Escape, WritesOutsideTheWritableBindsFail) {
  TempDir dir;
  Recipe recipe = helperRecipe({});
  recipe.mounts.push_back({Mount::Kind::bind, dir.path().string(), "/tmp/rw"});
  EXPECT_EQ(tryWrite(recipe, "/etc/jobtape-escape"), "EROFS\n");
  EXPECT_EQ(tryWrite(recipe, "/usr/jobtape-escape"), "EROFS\n");
  EXPECT_EQ(tryWrite(recipe, "/jobtape-escape"), "EROFS\n");
  struct passwd* pw = getpwuid(geteuid());
  if (pw != nullptr && std::filesystem::is_directory(pw->pw_dir)) {
    std::string home = std::string(pw->pw_dir) + "/jobtape-escape";
    std::string got = tryWrite(recipe, home);
    EXPECT_TRUE(got == "EROFS\n" || got == "EACCES\n") << home << ": " << got;
    EXPECT_FALSE(std::filesystem::exists(home));
  }
  EXPECT_FALSE(std::filesystem::exists("/etc/jobtape-escape"));
  EXPECT_FALSE(std::filesystem::exists("/usr/jobtape-escape"));

  // Positive controls: the rw bind reaches the host, the private /tmp does not.
  EXPECT_EQ(tryWrite(recipe, "/tmp/rw/allowed"), "ok\n");
  EXPECT_EQ(readFile(dir.path() / "allowed"), "written");
  EXPECT_EQ(tryWrite(recipe, "/tmp/private-only"), "ok\n");
  EXPECT_FALSE(std::filesystem::exists("/tmp/private-only"));
}

TEST(Escape, EmptyRootIsReadOnly) {
  Recipe recipe = minimalRecipe({});
  EXPECT_EQ(tryWrite(recipe, "/jobtape-escape"), "EROFS\n");
  EXPECT_EQ(tryWrite(recipe, "/usr/jobtape-escape"), "EROFS\n");
}

TEST(Escape, RootOnlyFileIsNotReadable) {
  TempDir dir;
  std::filesystem::path secret;
  if (geteuid() == 0) {
    // Root inside is root's uid mapped, but without any capability: a file of
    // another user is out of reach just as for an unprivileged caller.
    secret = dir.path() / "secret";
    std::ofstream(secret) << "secret";
    ASSERT_EQ(chown(secret.c_str(), 1, 1), 0);
    ASSERT_EQ(chmod(secret.c_str(), 0600), 0);
  } else {
    const char* rootOnly = getenv("JOBTAPE_TEST_ROOT_ONLY_FILE");
    if (rootOnly == nullptr) GTEST_SKIP() << "needs JOBTAPE_TEST_ROOT_ONLY_FILE (tools/as-nobody sets it)";
    secret = rootOnly;
  }
  Recipe recipe = helperRecipe({"read", secret.string()});
  recipe.mounts.push_back({Mount::Kind::roBind, secret.string(), ""});  // a single-file bind
  EXPECT_EQ(runForOutput(recipe), "EACCES\n");
}

TEST(Escape, HostProcessesAreInvisible) {
  EXPECT_THAT(runForOutput(helperRecipe({"procs"})), "1\n2\n");
}

TEST(Escape, OldRootIsNotVisible) {
  std::string mounts = runForOutput(minimalRecipe({"mounts"}));
  std::istringstream lines(mounts);
  std::string point, type;
  std::set<std::string> allowed = {"/usr", "/lib", "/lib64", std::filesystem::path(helperPath()).parent_path().string(),
                                   "/tmp", "/proc", "/dev"};
  bool sawRoot = false;
  while (lines >> point >> type) {
    if (point == "/") {
      EXPECT_EQ(type, "tmpfs") << "the root must be the sandbox's own";
      sawRoot = true;
      continue;
    }
    bool ok = false;
    for (const std::string& a : allowed) ok = ok || point == a || point.rfind(a + "/", 0) == 0;
    EXPECT_TRUE(ok) << "unexpected mount point " << point << " (" << type << ")";
  }
  EXPECT_TRUE(sawRoot) << mounts;
}

TEST(Escape, SymlinkOnTheDestinationSideStaysInside) {
  TempDir dir;
  std::string unique = "jobtape-escape-" + std::to_string(getpid());
  std::filesystem::create_directory(dir.path() / "tree");
  std::filesystem::create_symlink("/tmp", dir.path() / "tree" / "to-tmp");
  std::filesystem::create_symlink("/etc", dir.path() / "tree" / "to-etc");
  std::filesystem::create_directory(dir.path() / "payload");
  std::ofstream(dir.path() / "payload" / "file") << "payload";

  // The link resolves inside the new root: the payload lands in the
  // sandbox's private /tmp, not in the host's.
  Recipe recipe = minimalRecipe({"cat", "/tmp/" + unique + "/file"});
  recipe.mounts.push_back({Mount::Kind::roBind, (dir.path() / "tree").string(), "/tree"});
  recipe.mounts.push_back({Mount::Kind::roBind, (dir.path() / "payload").string(), "/tree/to-tmp/" + unique});
  EXPECT_EQ(runForOutput(recipe), "payload");
  EXPECT_FALSE(std::filesystem::exists("/tmp/" + unique));

  // A link to what only exists on the host leads nowhere inside.
  recipe.mounts.back().destination = "/tree/to-etc/" + unique;
  CollectingObserver o;
  RunResult r = run(recipe, {}, o);
  EXPECT_EQ(r.outcome, Outcome::setupFailed) << r.message;
  EXPECT_EQ(r.setupStep, "mount point");
  EXPECT_EQ(r.setupErrno, ENOENT);
  EXPECT_FALSE(std::filesystem::exists("/etc/" + unique));
}

class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 4) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("listener");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd_); }
  std::string port() const { return std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A hidden host directory (the jobtape home) is covered wherever a bind
// shows it: whole, read-write, through a bind of a part of it, and named by
// a symlink; the rest of each bind stays as it is.
TEST(Escape, HiddenPathsAreCoveredWhereverABindShowsThem) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "store");
  std::ofstream(dir.path() / "store" / "db") << "secret";
  std::ofstream(dir.path() / "other") << "visible";
  std::filesystem::create_symlink(dir.path() / "store", dir.path() / "link");
  Recipe recipe = helperRecipe({});
  recipe.mounts.push_back({Mount::Kind::roBind, dir.path().string(), "/tmp/view"});
  recipe.mounts.push_back({Mount::Kind::bind, dir.path().string(), "/tmp/rw"});
  recipe.mounts.push_back({Mount::Kind::roBind, (dir.path() / "store").string(), "/tmp/part"});
  auto answer = [&](std::vector<std::string> args, const std::string& hidden) {
    Recipe r = recipe;
    r.args = std::move(args);
    RunOptions options;
    options.hiddenPaths = {hidden};
    CollectingObserver o;
    RunResult result = run(r, options, o);
    EXPECT_EQ(result.outcome, Outcome::exited) << result.message;
    return o.out();
  };
  for (const auto& hidden : {dir.path() / "store", dir.path() / "link"}) {
    SCOPED_TRACE(hidden);
    EXPECT_EQ(answer({"read", "/tmp/view/store/db"}, hidden), "ENOENT\n");
    EXPECT_EQ(answer({"read", "/tmp/rw/store/db"}, hidden), "ENOENT\n");
    EXPECT_EQ(answer({"write", "/tmp/rw/store/planted"}, hidden), "EROFS\n");
    EXPECT_EQ(answer({"read", "/tmp/part/db"}, hidden), "ENOENT\n");
    EXPECT_EQ(answer({"read", "/tmp/view/other"}, hidden), "ok\n");
    EXPECT_EQ(answer({"write", "/tmp/rw/planted"}, hidden), "ok\n");
  }
  // Without hiding, the same reads get through: the cover did it.
  EXPECT_EQ(answer({"read", "/tmp/view/store/db"}, dir.path() / "elsewhere"), "ok\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "store" / "planted"));
}

TEST(Escape, HostLoopbackIsUnreachableWithoutNetwork) {
  Listener listener;
  Recipe recipe = helperRecipe({"connect", listener.port()});
  // The policy refuses the socket itself; the namespace has no route anyway.
  EXPECT_EQ(runForOutput(recipe), "EAFNOSUPPORT\n");
  EXPECT_THAT(runForOutput(helperRecipe({"ifaces"})), "lo\n");

  recipe.network = true;  // positive control: the host's network
  EXPECT_EQ(runForOutput(recipe), "ok\n");
}

TEST(Escape, InheritedDescriptorsAreClosed) {
  int leaked = open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(leaked, 3);
  int leakedHigh = fcntl(leaked, F_DUPFD, 100);
  std::string fds = runForOutput(helperRecipe({"fds"}));
  close(leaked);
  close(leakedHigh);
  EXPECT_EQ(fds, "0\n1\n2\n");
}

TEST(Escape, ArgumentsReachTheProgramVerbatim) {
  std::vector<std::string> tricky = {"--help", "-rf", "; rm -rf /", "$(id)", "a b", "", "--", "*", "\\n"};
  std::vector<std::string> args = {"args"};
  args.insert(args.end(), tricky.begin(), tricky.end());
  std::string expected;
  for (const std::string& a : tricky) expected += "[" + a + "]\n";
  EXPECT_EQ(runForOutput(helperRecipe(args)), expected);
}

TEST(Escape, SeccompKillIsReported) {
  Recipe recipe = helperRecipe({"int80"});
  recipe.command = helperPath("try_syscall");
  CollectingObserver o;
  RunResult r = run(recipe, {}, o);
  EXPECT_EQ(r.outcome, Outcome::seccompViolation) << r.message << o.out();
  EXPECT_EQ(r.signal, SIGSYS);
  EXPECT_EQ(r.exitCode, 128 + SIGSYS);
  EXPECT_FALSE(r.violatingSyscall.empty());
}

// pid 1 is jobtape's small init program, exec'd (init_image.h), not a copy
// of the caller: nothing of the caller's memory is mapped in the sandbox,
// and a caller of any size starts a job alike. As a fork of this test it
// would have all of the ballast resident.
TEST(Escape, PidOneIsTheInitProgramNotACopyOfTheCaller) {
  constexpr size_t kBallastBytes = 256u << 20;
  std::vector<char> ballast(kBallastBytes, 'j');  // written: resident
  Recipe recipe = helperRecipe({});
  recipe.command = "/bin/sh";
  recipe.args = {"-c", "cat /proc/1/comm; tr '\\0' ' ' < /proc/1/cmdline; echo; sed -n 's/^VmRSS:[[:space:]]*\\([0-9]*\\) kB$/\\1/p' /proc/1/status"};
  std::string out = runForOutput(recipe);
  ASSERT_EQ(ballast[kBallastBytes / 2], 'j');
  std::istringstream lines(out);
  std::string name, command, rss;
  std::getline(lines, name);
  std::getline(lines, command);
  std::getline(lines, rss);
  EXPECT_EQ(name, "jobtape-init") << out;
  EXPECT_THAT(command, ::testing::StartsWith("jobtape-sandbox-init ")) << out;
  ASSERT_FALSE(rss.empty()) << out;
  EXPECT_LT(std::stoul(rss), 64u * 1024) << "pid 1 has " << rss << " kB resident";
}

}  // namespace
}  // namespace jobtape::sandbox
