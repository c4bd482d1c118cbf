#include "sandbox/state_dir.h"

#include <stdlib.h>

#include <fstream>

#include <gtest/gtest.h>

namespace jobtape::sandbox {
namespace {

TEST(StateDir, NamesReadBackToTheDestination) {
  EXPECT_EQ(stateDirName("/tmp"), "tmp");
  EXPECT_EQ(stateDirName("/var/tmp"), "var%2Ftmp");
  EXPECT_EQ(stateDirName("/a%2Fb"), "a%252Fb");  // not the same as /a/b
  EXPECT_EQ(stateDirName("/"), "%2F");
}

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/jobtape-state-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(StateDirTest, TmpfsMountsGetDirectoriesBindsDoNot) {
  Recipe recipe;
  recipe.mounts = {{Mount::Kind::roBind, "/usr", ""}, {Mount::Kind::tmpfs, "", "/tmp"}, {Mount::Kind::tmpfs, "", "/var/tmp"}};
  RunOptions options;
  options.stateDir = dir_ / "state";
  StateDirs dirs = prepareStateDirs(recipe, options);
  ASSERT_EQ(dirs.error, 0) << dirs.failedPath;
  ASSERT_EQ(dirs.tmpfsSources.size(), 3u);
  EXPECT_EQ(dirs.tmpfsSources[0], "");
  EXPECT_EQ(dirs.tmpfsSources[1], (dir_ / "state" / "tmpfs" / "tmp").string());
  EXPECT_EQ(dirs.tmpfsSources[2], (dir_ / "state" / "tmpfs" / "var%2Ftmp").string());
  EXPECT_TRUE(std::filesystem::is_directory(dirs.tmpfsSources[2]));
}

TEST_F(StateDirTest, LeftoverStateIsRefusedUnlessReused) {
  Recipe recipe;
  recipe.mounts = {{Mount::Kind::tmpfs, "", "/tmp"}};
  RunOptions options;
  options.stateDir = dir_;
  ASSERT_EQ(prepareStateDirs(recipe, options).error, 0);
  std::ofstream(dir_ / "tmpfs" / "tmp" / "left") << "over";
  StateDirs refused = prepareStateDirs(recipe, options);
  EXPECT_EQ(refused.error, ENOTEMPTY);
  EXPECT_EQ(refused.failedPath, (dir_ / "tmpfs" / "tmp").string());
  options.reuseState = true;
  EXPECT_EQ(prepareStateDirs(recipe, options).error, 0);
}

TEST_F(StateDirTest, NoStateDirMeansRealTmpfs) {
  Recipe recipe;
  recipe.mounts = {{Mount::Kind::tmpfs, "", "/tmp"}};
  StateDirs dirs = prepareStateDirs(recipe, {});
  EXPECT_EQ(dirs.error, 0);
  EXPECT_EQ(dirs.tmpfsSources, std::vector<std::string>{""});
}

}  // namespace
}  // namespace jobtape::sandbox
