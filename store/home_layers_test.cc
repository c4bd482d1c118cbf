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

// What a volatile overlay leaves in its work area at each mount, modes and
// all (sandbox/mount_tree.h); the kernel refuses the next mount over it.
fs::path plantVolatileMarker(const fs::path& work) {
  fs::path incompat = work / "work" / "incompat";
  fs::create_directories(incompat / "volatile");
  std::ofstream(incompat / "volatile" / "dirty");
  for (const fs::path& p : {incompat / "volatile" / "dirty", incompat / "volatile", incompat, work / "work"}) {
    fs::permissions(p, fs::perms::none);
  }
  return incompat;
}

TEST_F(HomeLayers, TheMarkerOfAVolatileMountGoesWhenTheLeaseEndsOrWhenTheSlotIsTakenAgain) {
  fs::path work;
  fs::path marker;
  {
    HomeLayerLease lease = acquireHomeLayer(home.path(), kKey);
    work = lease.work();
    marker = plantVolatileMarker(work);
    std::ofstream(lease.upper() / "cache") << "warm";
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(marker)));
  EXPECT_TRUE(fs::is_directory(marker.parent_path())) << "work/work stays: the kernel makes it anew";

  // A recorder killed while its job ran leaves the marker, and no lock.
  plantVolatileMarker(work);
  HomeLayerLease next = acquireHomeLayer(home.path(), kKey);
  EXPECT_EQ(next.slotDir().filename(), "0");
  EXPECT_FALSE(fs::exists(fs::symlink_status(marker)));
  std::ifstream cache(next.upper() / "cache");
  std::string text;
  cache >> text;
  EXPECT_EQ(text, "warm") << "only the marker goes";
}

TEST_F(HomeLayers, AMarkerThatIsALinkIsRemovedAsALinkNotFollowed) {
  TempHome elsewhere;
  std::ofstream(elsewhere.path() / "keep") << "mine";
  fs::path marker;
  {
    HomeLayerLease lease = acquireHomeLayer(home.path(), kKey);
    fs::create_directories(lease.work() / "work");
    marker = lease.work() / "work" / "incompat";
    fs::create_directory_symlink(elsewhere.path(), marker);
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(marker)));
  EXPECT_TRUE(fs::exists(elsewhere.path() / "keep"));
}

}  // namespace
}  // namespace jobtape::store
