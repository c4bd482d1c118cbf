// Spare state trees: only a tree as the sandbox made it is given to the
// next job, and nothing planted in the store is taken or followed.
#include "store/spare_state.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "store/test_support.h"

namespace jobtape::store {
namespace {

namespace fs = std::filesystem;
using testing::TempHome;

class SpareState : public ::testing::Test {
 protected:
  void SetUp() override { fs::permissions(home.path(), fs::perms::owner_all); }

  // jobs/<id>/state/tmpfs/{tmp,run}, as the recorder and the sandbox make them.
  fs::path makeJob(const std::string& id) {
    fs::path job = home.path() / "jobs" / id;
    fs::create_directories(job);
    ::mkdir((job / "state").c_str(), 0700);
    fs::create_directories(job / "state" / "tmpfs");
    ::mkdir((job / "state" / "tmpfs" / "tmp").c_str(), 0755);
    ::mkdir((job / "state" / "tmpfs" / "run").c_str(), 0755);
    return job;
  }
  fs::path spares() const { return home.path() / kSpareStateDirName; }
  size_t spareCount() const {
    if (!fs::exists(spares())) return 0;
    return static_cast<size_t>(std::distance(fs::directory_iterator(spares()), fs::directory_iterator()));
  }

  TempHome home;
};

TEST_F(SpareState, AnUntouchedTreeGoesToTheNextJob) {
  fs::path first = makeJob("A");
  ASSERT_TRUE(giveBackState(home.path(), first / "state", "A"));
  EXPECT_FALSE(fs::exists(first / "state"));
  EXPECT_EQ(spareCount(), 1u);
  struct stat st {};
  ASSERT_EQ(::stat(spares().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);

  fs::path second = home.path() / "jobs" / "B";
  fs::create_directories(second);
  ASSERT_TRUE(takeSpareState(home.path(), second));
  EXPECT_TRUE(fs::is_directory(second / "state" / "tmpfs" / "tmp"));
  EXPECT_TRUE(fs::is_empty(second / "state" / "tmpfs" / "tmp"));
  EXPECT_EQ(spareCount(), 0u);
  EXPECT_FALSE(takeSpareState(home.path(), home.path() / "jobs" / "C")) << "none left";

  fs::path empty = home.path() / "jobs" / "D";
  fs::create_directories(empty / "state");
  ::chmod((empty / "state").c_str(), 0700);
  EXPECT_TRUE(giveBackState(home.path(), empty / "state", "D")) << "a state without tmpfs mounts";
}

// Everything a job can do to the directories it saw as /tmp and /run.
TEST_F(SpareState, ATreeAJobChangedIsNotGivenBack) {
  const std::vector<std::pair<std::string, std::function<bool(const fs::path&)>>> changes = {
      {"a file", [](const fs::path& tmp) { return bool(std::ofstream(tmp / "left")); }},
      {"an empty directory", [](const fs::path& tmp) { return fs::create_directory(tmp / "sub"); }},
      {"a link", [](const fs::path& tmp) { return ::symlink("/", (tmp / "l").c_str()) == 0; }},
      {"its mode", [](const fs::path& tmp) { return ::chmod(tmp.c_str(), 0777) == 0; }},
      {"the sticky bit", [](const fs::path& tmp) { return ::chmod(tmp.c_str(), 01755) == 0; }},
      {"an attribute", [](const fs::path& tmp) { return ::setxattr(tmp.c_str(), "user.x", "1", 1, 0) == 0; }},
      {"an inode flag",
       [](const fs::path& tmp) {
         int fd = ::open(tmp.c_str(), O_RDONLY | O_DIRECTORY);
         long flags = 0;
         bool set = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
                    (flags |= FS_NODUMP_FL, ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0);
         ::close(fd);
         return set;
       }},
      {"a link instead of it",
       [](const fs::path& tmp) { return fs::remove(tmp) && ::symlink("/", tmp.c_str()) == 0; }},
      {"a file instead of it", [](const fs::path& tmp) { return fs::remove(tmp) && bool(std::ofstream(tmp)); }},
      {"another entry in state/",
       [](const fs::path& tmp) { return bool(std::ofstream(tmp.parent_path().parent_path() / "x")); }},
  };
  int tried = 0;
  for (const auto& [what, change] : changes) {
    std::string id = "J" + std::to_string(tried++);
    fs::path job = makeJob(id);
    if (!change(job / "state" / "tmpfs" / "tmp")) {
      ADD_FAILURE() << "could not make " << what;  // every change here is one a job can make
      continue;
    }
    EXPECT_FALSE(giveBackState(home.path(), job / "state", id)) << what;
    EXPECT_TRUE(fs::exists(fs::symlink_status(job / "state"))) << what << ": left for removal";
  }
  EXPECT_EQ(spareCount(), 0u);
}

TEST_F(SpareState, NothingPlantedInTheStoreIsTakenOrFollowed) {
  TempHome elsewhere;
  fs::create_directories(elsewhere.path() / "tmpfs" / "tmp");
  // spare-state itself a link: neither used nor written through.
  fs::create_directory_symlink(elsewhere.path(), spares());
  fs::path job = makeJob("A");
  EXPECT_FALSE(giveBackState(home.path(), job / "state", "A"));
  fs::create_directories(home.path() / "jobs" / "B");
  EXPECT_FALSE(takeSpareState(home.path(), home.path() / "jobs" / "B"));
  EXPECT_FALSE(fs::exists(home.path() / "jobs" / "B" / "state"));
  fs::remove(spares());

  // Open to others: not used.
  fs::create_directories(spares());
  fs::permissions(spares(), fs::perms::all);
  EXPECT_FALSE(giveBackState(home.path(), job / "state", "A"));
  fs::permissions(spares(), fs::perms::owner_all);

  // Entries that are no directories: not taken.
  fs::create_directory_symlink(elsewhere.path(), spares() / "link");
  std::ofstream(spares() / "file") << "x";
  EXPECT_FALSE(takeSpareState(home.path(), home.path() / "jobs" / "B"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(home.path() / "jobs" / "B" / "state")));
  EXPECT_TRUE(fs::exists(elsewhere.path() / "tmpfs" / "tmp"));

  // A name that would leave spare-state: refused.
  EXPECT_FALSE(giveBackState(home.path(), job / "state", "../escaped"));
  EXPECT_FALSE(giveBackState(home.path(), job / "state", ".."));
  EXPECT_TRUE(fs::exists(job / "state"));
}

TEST_F(SpareState, KeepsAtMostItsShare) {
  fs::create_directories(spares());
  fs::permissions(spares(), fs::perms::owner_all);
  for (int i = 0; i < kMaxSpareStates; ++i) fs::create_directory(spares() / ("S" + std::to_string(i)));
  fs::path job = makeJob("A");
  EXPECT_FALSE(giveBackState(home.path(), job / "state", "A"));
  EXPECT_EQ(spareCount(), static_cast<size_t>(kMaxSpareStates));
}

}  // namespace
}  // namespace jobtape::store
