// The default sandbox's $HOME: writable through an overlay whose upper layer
// is kept per project in the store (store/home_layers.h), driving the real
// binary. $HOME is a fresh directory and the store sits where it would by
// default, inside it: the upper layer lies inside the overlay's lower one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <fstream>

#include "store/tree_removal.h"
#include "tests/cli_run/run_test_support.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Removes a tree the test user owns, opening up directories of mode 000
// first (overlayfs makes its work/work so); what cannot go stays.
void removeOwnTree(const fs::path& path) {
  try {
    store::removeTree(path);
  } catch (const fs::filesystem_error&) {
  }
}

// A directory outside /tmp when the host has a writable /var/tmp: there a
// home is the host's, read-only inside without the overlay (one under /tmp
// would be the sandbox's private /tmp).
fs::path outsideTmp(const fs::path& fallback) {
  std::string pattern = "/var/tmp/jobtape-home-test-XXXXXX";
  if (::mkdtemp(pattern.data())) return pattern;
  return fallback;
}

class HomeOverlay : public ::testing::Test {
 protected:
  void TearDown() override {
    if (base != dir.path()) removeOwnTree(base);
    removeOwnTree(dir.path() / "home");
    removeOwnTree(dir.path() / "moved-away");
  }

  void SetUp() override {
    for (const fs::path& dir : {home, projectA, projectB, outside}) {
      fs::create_directories(dir);
      fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    }
  }

  ProcessOptions optionsIn(const fs::path& project) const {
    ProcessOptions options;
    options.env["HOME"] = home.string();
    options.unsetEnv = {"JOBTAPE_HOME", "XDG_STATE_HOME"};
    options.cwd = project;
    return options;
  }

  std::vector<std::string> runArgs(const fs::path& project, const std::string& script,
                                   std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"run", "--no-tty", "--project", project.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", "sh", "-c", script});
    return args;
  }

  ProcessResult run(const fs::path& project, const std::string& script, std::vector<std::string> extra = {}) {
    return runJobtapeToEnd(store, runArgs(project, script, std::move(extra)), optionsIn(project));
  }

  ProcessResult jobtape(const std::vector<std::string>& args) {
    return runJobtapeToEnd(store, args, optionsIn(projectA));
  }

  // The slots of the one project that has layers.
  std::vector<std::string> slotsOfOnlyProject() const {
    std::vector<std::string> slots;
    std::vector<fs::path> projects;
    for (const auto& entry : fs::directory_iterator(store / "homes")) projects.push_back(entry.path());
    if (projects.size() != 1) return {"(" + std::to_string(projects.size()) + " projects)"};
    for (const auto& entry : fs::directory_iterator(projects.front())) slots.push_back(entry.path().filename());
    std::sort(slots.begin(), slots.end());
    return slots;
  }

  TempDir dir;
  fs::path base = outsideTmp(dir.path());
  fs::path home = base / "home";
  fs::path store = home / ".local" / "state" / "jobtape";
  fs::path projectA = dir.path() / "a";
  fs::path projectB = dir.path() / "b";
  fs::path outside = dir.path() / "outside";
};

// A home under /tmp: the overlay comes after the private /tmp, not hidden by it.
class HomeUnderTmp : public HomeOverlay {
 protected:
  HomeUnderTmp() {
    home = dir.path() / "home";
    store = home / ".local" / "state" / "jobtape";
  }
};

TEST_F(HomeUnderTmp, IsStillTheKeptOverlay) {
  ASSERT_EQ(run(projectA, "echo warm > ~/x").exitStatus, 0);
  EXPECT_FALSE(fs::exists(home / "x"));
  ProcessResult again = run(projectA, "cat ~/x");
  EXPECT_EQ(again.out, "warm\n") << again.err;
}

TEST_F(HomeOverlay, CachesStayWarmPerProjectAndTheHostsHomeIsNotWritten) {
  ProcessResult write = run(projectA, "mkdir -p ~/.cache && echo warm > ~/.cache/x");
  ASSERT_EQ(write.exitStatus, 0) << write.err;
  EXPECT_FALSE(fs::exists(home / ".cache")) << "the host's home was written";

  ProcessResult again = run(projectA, "cat ~/.cache/x");
  ASSERT_EQ(again.exitStatus, 0) << again.err;
  EXPECT_EQ(again.out, "warm\n");

  ProcessResult other = run(projectB, "test ! -e ~/.cache/x && echo cold");
  ASSERT_EQ(other.exitStatus, 0) << other.out << other.err;
  EXPECT_EQ(other.out, "cold\n");

  // Overlayfs's work area (mode 000 while mounted) is opened up again: the
  // caller's own tools walk the store.
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(store, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
  }
  EXPECT_FALSE(ec) << ec.message();
}

// Volatile: its unmount at the job's end does not write back the whole file
// system the store is on (sandbox/mount_tree.h). The marker each mount
// leaves is gone after the job, so the layer mounts again.
TEST_F(HomeOverlay, IsVolatileAndMountsAgainJobAfterJob) {
  const std::string script = "grep \" $HOME \" /proc/self/mountinfo; echo x >> ~/count; wc -l < ~/count";
  for (int job = 1; job <= 3; ++job) {
    ProcessResult result = run(projectA, script);
    ASSERT_EQ(result.exitStatus, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr(" overlay ")) << result.out;
    // Linux 6.12+ shows the option as fsync=volatile.
    EXPECT_THAT(result.out, ::testing::AnyOf(HasSubstr(",volatile"), HasSubstr(",fsync=volatile"))) << result.out;
    EXPECT_THAT(result.out, HasSubstr("\n" + std::to_string(job) + "\n")) << "job " << job << ": " << result.out;
  }
  EXPECT_THAT(slotsOfOnlyProject(), ::testing::ElementsAre("0"));
  fs::path work = store / "homes";
  for (const auto& entry : fs::recursive_directory_iterator(work)) {
    EXPECT_NE(entry.path().filename(), "incompat") << entry.path();
  }
}

TEST_F(HomeOverlay, NoHomeOverlayKeepsTheHomeReadOnly) {
  if (base == dir.path()) GTEST_SKIP() << "no writable /var/tmp: a home under /tmp is private inside anyway";
  ProcessResult result = run(projectA, "mkdir -p ~/.cache/y", {"--no-home-overlay"});
  EXPECT_NE(result.exitStatus, 0);
  EXPECT_THAT(result.out + result.err, HasSubstr("Read-only file system"));
  EXPECT_THAT(result.err, HasSubstr("--bind DIR"));
  EXPECT_FALSE(fs::exists(home / ".cache"));
  EXPECT_FALSE(fs::exists(store / "homes"));
}

TEST_F(HomeOverlay, GcHomesDropsTheKeptLayers) {
  ASSERT_EQ(run(projectA, "echo a > ~/kept").exitStatus, 0);
  ASSERT_EQ(run(projectB, "echo b > ~/kept").exitStatus, 0);

  ProcessResult one = jobtape({"gc", "--homes", "--project", projectB.string(), "--json"});
  ASSERT_EQ(one.exitStatus, 0) << one.err;
  EXPECT_THAT(one.out, HasSubstr("\"home_layers_removed\": 1"));
  ProcessResult keptA = run(projectA, "cat ~/kept");
  EXPECT_EQ(keptA.out, "a\n") << keptA.err;
  EXPECT_EQ(run(projectB, "test ! -e ~/kept").exitStatus, 0);

  ProcessResult all = jobtape({"gc", "--homes"});
  ASSERT_EQ(all.exitStatus, 0) << all.err;
  EXPECT_THAT(all.out, HasSubstr("removed 2 home layers, freed"));
  EXPECT_EQ(run(projectA, "test ! -e ~/kept").exitStatus, 0);
}

TEST_F(HomeOverlay, AJobSeesNeitherTheStoreNorAnotherProjectsLayer) {
  ASSERT_EQ(run(projectB, "echo secret-of-b > ~/secret").exitStatus, 0);
  ProcessResult hostile = run(projectA,
                              "ls -A \"$JOBTAPE_HOME\"; cat \"$JOBTAPE_HOME\"/homes/*/*/upper/secret;"
                              "mkdir \"$JOBTAPE_HOME\"/homes/x; cat ~/secret; exit 0");
  EXPECT_EQ(hostile.exitStatus, 0) << hostile.err;
  EXPECT_THAT(hostile.out, Not(HasSubstr("secret-of-b")));
  EXPECT_THAT(hostile.out, Not(HasSubstr("jobtape.db")));
  EXPECT_FALSE(fs::exists(store / "homes" / "x"));
}

TEST_F(HomeOverlay, APlantedSymlinkInHomesIsRefusedNotFollowed) {
  ASSERT_EQ(run(projectA, "true").exitStatus, 0);
  std::vector<fs::path> projects;
  for (const auto& entry : fs::directory_iterator(store / "homes")) projects.push_back(entry.path());
  ASSERT_EQ(projects.size(), 1u);
  std::ofstream(outside / "keep") << "mine\n";
  fs::rename(projects.front(), dir.path() / "moved-away");
  fs::create_directory_symlink(outside, projects.front());

  ProcessResult refused = run(projectA, "echo x > ~/planted");
  EXPECT_NE(refused.exitStatus, 0);
  EXPECT_THAT(refused.err, HasSubstr("symbolic link"));
  EXPECT_THAT(refused.err, HasSubstr("gc --homes"));
  EXPECT_EQ(std::distance(fs::directory_iterator(outside), fs::directory_iterator()), 1);
  EXPECT_FALSE(fs::exists(home / "planted"));

  // gc removes the link itself, never what it names.
  ProcessResult gc = jobtape({"gc", "--homes"});
  ASSERT_EQ(gc.exitStatus, 0) << gc.err;
  EXPECT_FALSE(fs::exists(fs::symlink_status(projects.front())));
  EXPECT_TRUE(fs::exists(outside / "keep"));
  EXPECT_EQ(run(projectA, "echo x > ~/planted").exitStatus, 0);
}

TEST_F(HomeOverlay, ParallelJobsOfOneProjectTakeSlotsOfTheirOwn) {
  // Each job writes into its home, then waits (at most 10 s) until the
  // other one is up too: both overlays are mounted at the same time.
  auto script = [&](const std::string& me, const std::string& other) {
    fs::path p = projectA;
    return "echo " + me + " > ~/" + me + " && touch " + (p / me).string() + " && i=0; while [ ! -e " +
           (p / other).string() + " ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; test -e " +
           (p / other).string() + " && cat ~/" + me;
  };
  LiveJobtape one(store, runArgs(projectA, script("one", "two")), optionsIn(projectA));
  LiveJobtape two(store, runArgs(projectA, script("two", "one")), optionsIn(projectA));
  EXPECT_EQ(one.wait(), 0) << one.stderrText();
  EXPECT_EQ(two.wait(), 0) << two.stderrText();
  EXPECT_EQ(one.stdoutText(), "one\n");
  EXPECT_EQ(two.stdoutText(), "two\n");
  EXPECT_EQ(slotsOfOnlyProject(), (std::vector<std::string>{"0", "1"}));
}

TEST_F(HomeOverlay, DebugShellAndRetryGetTheLayerOfTheJobsProject) {
  ProcessResult failed = run(projectA, "echo warm > ~/w; test -e ~/ready");
  ASSERT_NE(failed.exitStatus, 0);
  ProcessResult shell = jobtape({"job", "debug-shell", "--", "sh", "-c", "cat ~/w && touch ~/ready"});
  EXPECT_EQ(shell.exitStatus, 0) << shell.err;
  EXPECT_THAT(shell.out, HasSubstr("warm"));
  EXPECT_THAT(shell.err, HasSubstr("$HOME is the project's kept home overlay"));
  EXPECT_FALSE(fs::exists(home / "ready"));
  ProcessResult retry = jobtape({"job", "retry"});
  EXPECT_EQ(retry.exitStatus, 0) << retry.out << retry.err;
}

// The store on a file system no upper layer can live on (an overlay, made
// in a user namespace of our own): the job fails at that setup step, naming
// the option that does without, and does not run with another home.
TEST_F(HomeOverlay, AStoreWhereNoOverlayCanBeMadeFailsNamingTheOption) {
  if (!fs::exists("/usr/bin/unshare")) GTEST_SKIP() << "no unshare(1)";
  for (const char* name : {"lower", "upper", "work", "merged"}) fs::create_directory(base / name);
  fs::path onOverlay = base / "merged" / "store";
  std::string mount = "mount -t overlay overlay -o lowerdir=" + (base / "lower").string() +
                      ",upperdir=" + (base / "upper").string() + ",workdir=" + (base / "work").string() +
                      ",userxattr " + (base / "merged").string() + " || exit 99; ";
  auto jobtapeThere = [&](const std::string& extra) {
    return jobtapeBinary().string() + " --home " + onOverlay.string() + " run --no-tty --project " +
           projectA.string() + " " + extra + " -- sh -c 'echo x > ~/x'";
  };
  std::string script = mount + jobtapeThere("") + "; echo status=$?; " + jobtapeThere("--no-home-overlay") +
                       "; echo status=$?";
  ProcessResult result = runProgramToEnd({"/usr/bin/unshare", "-Urm", "sh", "-c", script}, optionsIn(projectA));
  if (result.exitStatus == 99) GTEST_SKIP() << "no overlay in a user namespace here: " << result.err;
  EXPECT_THAT(result.out, HasSubstr("status=125"));
  EXPECT_THAT(result.err, HasSubstr("setup failed at home overlay"));
  EXPECT_THAT(result.err, HasSubstr("--no-home-overlay"));
  // Without the overlay the home is the host's, read-only (one under /tmp
  // would be the private /tmp).
  if (base != dir.path()) {
    EXPECT_THAT(result.out, Not(HasSubstr("status=0")));
    EXPECT_THAT(result.err, HasSubstr("Read-only file system"));
  }
  EXPECT_FALSE(fs::exists(home / "x"));
}

}  // namespace
}  // namespace jobtape::testing
