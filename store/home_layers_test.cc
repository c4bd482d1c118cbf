#include "store/home_layers.h"

#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "store/store.h"
#include "store/test_support.h"

namespace jobtape::store {
namespace {

namespace fs = std::filesystem;
using testing::TempHome;

const std::string kKey(64, 'a');

class HomeLayers : public ::testing::Test {
 protected:
  void SetUp() override { fs::permissions(home.path(), fs::perms::owner_all); }
  TempHome home;
};

TEST_F(HomeLayers, EachLeaseHasASlotOfItsOwnAndAFreedSlotIsTakenAgain) {
  std::optional<HomeLayerLease> first = acquireHomeLayer(home.path(), kKey);
  HomeLayerLease second = acquireHomeLayer(home.path(), kKey);
  EXPECT_EQ(first->slotDir().filename(), "0");
  EXPECT_EQ(second.slotDir().filename(), "1");
  EXPECT_TRUE(fs::is_directory(first->upper()));
  EXPECT_TRUE(fs::is_directory(second.work()));
  struct stat st {};
  ASSERT_EQ(::stat(first->slotDir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
  first.reset();
  EXPECT_EQ(acquireHomeLayer(home.path(), kKey).slotDir().filename(), "0");
}

TEST_F(HomeLayers, RefusesAKeyThatIsNoHash) {
  EXPECT_THROW(acquireHomeLayer(home.path(), "../../etc"), StoreOpenError);
  EXPECT_FALSE(fs::exists(home.path() / kHomesDirName / "../../etc"));
}

TEST_F(HomeLayers, NeverFollowsALinkPlantedInHomes) {
  TempHome elsewhere;
  fs::create_directories(home.path() / kHomesDirName);
  fs::create_directory_symlink(elsewhere.path(), home.path() / kHomesDirName / kKey);
  EXPECT_THROW(acquireHomeLayer(home.path(), kKey), StoreUnsafeError);
  EXPECT_TRUE(fs::is_empty(elsewhere.path()));

  std::ofstream(elsewhere.path() / "keep") << "mine";
  HomeLayersRemoval removal = removeHomeLayers(home.path(), std::nullopt, false);
  EXPECT_TRUE(removal.problems.empty());
  EXPECT_FALSE(fs::exists(fs::symlink_status(home.path() / kHomesDirName / kKey)));
  EXPECT_TRUE(fs::exists(elsewhere.path() / "keep"));
}

TEST_F(HomeLayers, RefusesASlotOpenToOthers) {
  fs::create_directories(home.path() / kHomesDirName / kKey / "0");
  fs::permissions(home.path() / kHomesDirName, fs::perms::owner_all);
  fs::permissions(home.path() / kHomesDirName / kKey, fs::perms::owner_all);
  fs::permissions(home.path() / kHomesDirName / kKey / "0", fs::perms::all);
  EXPECT_THROW(acquireHomeLayer(home.path(), kKey), StoreUnsafeError);
}

TEST_F(HomeLayers, RemovalLeavesTheSlotsOfRunningJobsAlone) {
  HomeLayerLease held = acquireHomeLayer(home.path(), kKey);
  { HomeLayerLease done = acquireHomeLayer(home.path(), kKey); }
  std::ofstream(held.upper() / "cache") << "warm";
  const std::string other(64, 'b');
  { HomeLayerLease otherProject = acquireHomeLayer(home.path(), other); }

  HomeLayersRemoval dry = removeHomeLayers(home.path(), kKey, true);
  EXPECT_EQ(dry.layers, 1);
  EXPECT_TRUE(fs::exists(home.path() / kHomesDirName / kKey / "1"));

  HomeLayersRemoval removal = removeHomeLayers(home.path(), kKey, false);
  EXPECT_EQ(removal.layers, 1);
  EXPECT_EQ(removal.busy, 1);
  EXPECT_TRUE(fs::exists(held.upper() / "cache"));
  EXPECT_FALSE(fs::exists(home.path() / kHomesDirName / kKey / "1"));
  EXPECT_TRUE(fs::exists(home.path() / kHomesDirName / other / "0"));
}

}  // namespace
}  // namespace jobtape::store
