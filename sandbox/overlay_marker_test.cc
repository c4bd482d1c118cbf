// The volatile overlay's marker: removed exactly as the kernel leaves it
// (modes 000 included, which an unprivileged caller cannot enter as they
// are), never through a link, never more than it; and gone while the job
// whose overlay left it still runs. Registered as root and as nobody.
#include "sandbox/overlay_marker.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sandbox/runner_test_support.h"

namespace jobtape::sandbox::testing {
namespace {

namespace fs = std::filesystem;

void makeDir(const fs::path& dir, fs::perms mode = fs::perms::owner_all) {
  fs::create_directories(dir);
  fs::permissions(dir, mode);
}

void writeFile(const fs::path& file, const std::string& text = "") { std::ofstream(file) << text; }

// What overlayfs leaves in `work` after a volatile mount, modes included.
void leaveMarker(const fs::path& work) {
  fs::path inner = work / "work";
  makeDir(inner / "incompat" / "volatile");
  writeFile(inner / "incompat" / "volatile" / "dirty");
  for (const fs::path& p : {inner / "incompat" / "volatile" / "dirty", inner / "incompat" / "volatile",
                            inner / "incompat", inner}) {
    fs::permissions(p, fs::perms::none);
  }
}

// Opens up and removes a tree of the caller's (modes 000 inside).
void removeOwnTree(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(path, ec))) {
    fs::remove(path, ec);
    return;
  }
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
  for (const auto& entry : fs::directory_iterator(path, ec)) removeOwnTree(entry.path());
  fs::remove(path, ec);
}

class OverlayMarker : public ::testing::Test {
 protected:
  void SetUp() override { makeDir(work); }
  void TearDown() override { removeOwnTree(dir.path() / "slot"); }

  TempDir dir;
  fs::path work = dir.path() / "slot" / "work";
};

TEST_F(OverlayMarker, IsRemovedAsTheKernelLeftItModesOfNoAccessIncluded) {
  leaveMarker(work);
  EXPECT_TRUE(clearVolatileMarker(work.string()));
  EXPECT_FALSE(fs::exists(work / "work" / "incompat"));
  EXPECT_TRUE(fs::is_directory(work / "work")) << "overlayfs's own work directory stays";
  EXPECT_EQ(fs::status(work / "work").permissions(), fs::perms::owner_all);
}

TEST_F(OverlayMarker, NoneThereIsNoFailure) {
  EXPECT_TRUE(clearVolatileMarker(work.string())) << "never mounted: no work/work";
  makeDir(work / "work", fs::perms::none);
  EXPECT_TRUE(clearVolatileMarker(work.string())) << "mounted without volatile: no incompat/";
  EXPECT_FALSE(clearVolatileMarker((dir.path() / "missing").string()));
}

TEST_F(OverlayMarker, AnythingElseInsideIsLeftForTheStore) {
  leaveMarker(work);
  fs::permissions(work / "work", fs::perms::owner_all);
  fs::permissions(work / "work" / "incompat", fs::perms::owner_all);
  writeFile(work / "work" / "incompat" / "other", "not the kernel's");
  EXPECT_FALSE(clearVolatileMarker(work.string()));
  EXPECT_TRUE(fs::exists(work / "work" / "incompat" / "other"));

  removeOwnTree(work / "work");
  makeDir(work / "work" / "incompat" / "volatile" / "dirty");  // a directory, not the kernel's file
  EXPECT_FALSE(clearVolatileMarker(work.string()));
  EXPECT_TRUE(fs::is_directory(work / "work" / "incompat" / "volatile" / "dirty"));
}

TEST_F(OverlayMarker, ALinkOnTheWayIsNotFollowed) {
  fs::path elsewhere = dir.path() / "slot" / "elsewhere";
  leaveMarker(elsewhere);
  fs::create_directory_symlink(elsewhere / "work", work / "work");
  EXPECT_FALSE(clearVolatileMarker(work.string()));
  EXPECT_EQ(fs::symlink_status(elsewhere / "work").permissions(), fs::perms::none) << "not even opened up";

  fs::remove(work / "work");
  makeDir(work / "work");
  fs::create_directory_symlink(elsewhere / "work" / "incompat", work / "work" / "incompat");
  EXPECT_FALSE(clearVolatileMarker(work.string()));
  fs::permissions(elsewhere / "work", fs::perms::owner_all);
  EXPECT_TRUE(fs::exists(fs::symlink_status(elsewhere / "work" / "incompat")));
}

// The real overlay: the job waits for a word from the test, and the marker
// its mount left must be gone before that word comes; the layer still takes
// the job's writes and mounts again for the next job.
TEST_F(OverlayMarker, IsGoneWhileTheJobWhoseOverlayLeftItStillRuns) {
  fs::path home = dir.path() / "slot" / "home", upper = dir.path() / "slot" / "upper";
  fs::path sync = dir.path() / "slot" / "sync";
  for (const fs::path& d : {home, upper, sync}) makeDir(d);
  Recipe recipe;
  recipe.command = "/bin/sh";
  recipe.args = {"-c", "touch \"$SYNC/started\"; i=0; while [ ! -e \"$SYNC/go\" ] && [ $i -lt 1000 ]; do "
                       "sleep 0.01; i=$((i+1)); done; echo kept > \"$HOME/file\""};
  recipe.env = {{"PATH", "/usr/bin:/bin"}, {"HOME", home.string()}, {"SYNC", sync.string()}};
  recipe.workDir = "/";
  recipe.mounts = {{Mount::Kind::roBind, "/", "/"}, {Mount::Kind::tmpfs, "", "/tmp"},
                   {Mount::Kind::homeOverlay, home.string(), home.string()},
                   {Mount::Kind::bind, sync.string(), sync.string()}};
  keepBuildTreeVisible(recipe);
  RunOptions options;
  options.homeLayers = {upper.string(), work.string()};

  auto runOnce = [&](bool watch) {
    std::atomic<bool> markerSeenGone{false};
    std::thread watcher;
    if (watch) {
      watcher = std::thread([&] {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!fs::exists(sync / "started") && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        while (std::chrono::steady_clock::now() < deadline) {
          std::error_code ec;
          if (!fs::exists(work / "work" / "incompat", ec) && !ec) {
            markerSeenGone = true;  // the job waits for "go" until it comes
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        writeFile(sync / "go");
      });
    } else {
      writeFile(sync / "go");
    }
    CollectingObserver observer;
    RunResult result = run(recipe, options, observer);
    if (watcher.joinable()) watcher.join();
    fs::remove(sync / "started");
    fs::remove(sync / "go");
    return std::make_pair(result, markerSeenGone.load());
  };

  auto [first, goneWhileRunning] = runOnce(true);
  if (first.outcome == Outcome::setupFailed && first.setupStep == "home overlay") {
    GTEST_SKIP() << "no overlayfs in a user namespace here: " << first.message;
  }
  ASSERT_TRUE(first.succeeded()) << first.message;
  EXPECT_TRUE(goneWhileRunning) << "the marker was still there while the job ran";
  EXPECT_EQ(readFile(upper / "file"), "kept\n");
  auto [second, unused] = runOnce(false);
  EXPECT_TRUE(second.succeeded()) << "the layer mounts again: " << second.message;
}

}  // namespace
}  // namespace jobtape::sandbox::testing
