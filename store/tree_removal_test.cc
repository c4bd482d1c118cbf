// Removing what a job can leave in its kept state: depth beyond the
// open-file limit, directories without permissions, links that point out.
#include "store/tree_removal.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "store/test_support.h"

namespace jobtape::store {
namespace {

namespace fs = std::filesystem;
using testing::TempHome;

// Lowers the soft open-file limit for the test's duration.
class FdLimit {
 public:
  explicit FdLimit(rlim_t soft) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    struct rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ::setrlimit(RLIMIT_NOFILE, &lowered);
  }
  ~FdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  struct rlimit saved_ {};
};

// A chain of `depth` directories named "d" under `top`, made with openat so
// that no path grows beyond PATH_MAX; a file at the bottom.
void makeDeepChain(const fs::path& top, int depth) {
  fs::create_directories(top);
  int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < depth; ++i) {
    ASSERT_EQ(::mkdirat(fd, "d", 0700), 0) << "level " << i;
    int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    ASSERT_GE(next, 0);
    fd = next;
  }
  int file = ::openat(fd, "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(file, 0);
  ASSERT_EQ(::write(file, "x", 1), 1);
  ::close(file);
  ::close(fd);
}

bool present(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(TreeRemovalTest, RemovesATreeDeeperThanTheOpenFileLimit) {
  TempHome home;
  fs::path tree = home.path() / "state";
  makeDeepChain(tree, 5000);
  FdLimit limit(256);
  uint64_t usage = diskUsage(tree);
  EXPECT_GT(usage, 0u) << "the file at the bottom counts";
  EXPECT_EQ(removeTree(tree), usage) << "what is removed is what was measured, every level";
  EXPECT_FALSE(present(tree));
}

TEST(TreeRemovalTest, RemovesDirectoriesAndFilesWithoutPermissions) {
  TempHome home;
  fs::path tree = home.path() / "state";
  fs::create_directories(tree / "locked" / "inner");
  fs::create_directories(tree / "readonly" / "sub");
  testing::writeFile(tree / "locked" / "inner" / "f", "secret");
  testing::writeFile(tree / "readonly" / "sub" / "g", "g");
  testing::writeFile(tree / "nomode", "n");
  ::chmod((tree / "nomode").c_str(), 0);
  ::chmod((tree / "readonly" / "sub").c_str(), 0500);
  ::chmod((tree / "readonly").c_str(), 0500);
  ::chmod((tree / "locked" / "inner").c_str(), 0);
  ::chmod((tree / "locked").c_str(), 0);
  ::chmod(tree.c_str(), 0500);
  removeTree(tree);
  EXPECT_FALSE(present(tree));
}

TEST(TreeRemovalTest, RemovesLinksFifosAndSocketsWithoutFollowingALink) {
  TempHome home;
  fs::path outside = home.path() / "outside";
  fs::create_directories(outside / "keep");
  testing::writeFile(outside / "keep" / "precious", "precious");
  fs::path tree = home.path() / "state";
  fs::create_directories(tree / "sub");
  fs::create_directory_symlink(outside, tree / "link-to-dir");
  fs::create_directory_symlink(outside / "keep", tree / "sub" / "deeper-link");
  fs::create_symlink("/nonexistent/target", tree / "dangling");
  ASSERT_EQ(::mkfifo((tree / "fifo").c_str(), 0600), 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  std::string socketPath = (tree / "sock").string();
  ASSERT_LT(socketPath.size(), sizeof(address.sun_path));
  socketPath.copy(address.sun_path, socketPath.size());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(sock);

  removeTree(tree);
  EXPECT_FALSE(present(tree));
  EXPECT_EQ(testing::readFile(outside / "keep" / "precious"), "precious");
}

TEST(TreeRemovalTest, ALinkGivenAsTheTreeIsRemovedAsALink) {
  TempHome home;
  fs::path outside = home.path() / "outside";
  fs::create_directories(outside);
  testing::writeFile(outside / "precious", "precious");
  fs::path link = home.path() / "trash";
  fs::create_directory_symlink(outside, link);
  removeTree(link);
  EXPECT_FALSE(present(link));
  EXPECT_EQ(testing::readFile(outside / "precious"), "precious");
}

// What most jobs leave: empty directories, removed with one rmdir each
// and still counted, however they are nested or locked.
TEST(TreeRemovalTest, EmptyDirectoriesAreRemovedAndCounted) {
  TempHome home;
  fs::path tree = home.path() / "state";
  fs::create_directories(tree / "tmpfs" / "tmp");
  fs::create_directories(tree / "tmpfs" / "run");
  fs::create_directories(tree / "locked");
  ::chmod((tree / "locked").c_str(), 0);
  uint64_t usage = diskUsage(tree);
  EXPECT_EQ(removeTree(tree), usage);
  EXPECT_FALSE(present(tree));

  fs::path empty = home.path() / "empty";
  fs::create_directories(empty);
  usage = diskUsage(empty);
  EXPECT_GT(usage, 0u);
  EXPECT_EQ(removeTree(empty), usage);
  EXPECT_FALSE(present(empty));
}

TEST(TreeRemovalTest, ALinkToAnEmptyDirectoryIsRemovedAsALink) {
  TempHome home;
  fs::path outside = home.path() / "outside-empty";
  fs::create_directories(outside);
  fs::path tree = home.path() / "state";
  fs::create_directories(tree);
  fs::create_directory_symlink(outside, tree / "looks-empty");
  fs::create_directory_symlink(outside, home.path() / "trash");
  removeTree(tree);
  removeTree(home.path() / "trash");
  EXPECT_FALSE(present(tree));
  EXPECT_FALSE(present(home.path() / "trash"));
  EXPECT_TRUE(fs::is_directory(outside));
}

TEST(TreeRemovalTest, AMissingTreeIsNothing) {
  TempHome home;
  EXPECT_EQ(removeTree(home.path() / "absent"), 0u);
  EXPECT_EQ(diskUsage(home.path() / "absent"), 0u);
}

}  // namespace
}  // namespace jobtape::store
