// The home is private whatever the umask, and a home or database that
// someone else could have written is refused before it is read.
#include "store/home_safety.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "store/test_support.h"

namespace jobtape::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempHome;

mode_t modeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class Umask {
 public:
  explicit Umask(mode_t mask) : saved_(::umask(mask)) {}
  ~Umask() { ::umask(saved_); }

 private:
  mode_t saved_;
};

// The message of the StoreUnsafeError opening `home` throws, and its hint.
std::pair<std::string, std::string> refusal(const fs::path& home) {
  try {
    Store::open(home);
  } catch (const StoreUnsafeError& error) {
    return {error.what(), error.hint()};
  }
  ADD_FAILURE() << "opening " << home << " was not refused";
  return {};
}

TEST(HomeSafetyTest, AStoreMadeUnderUmask000IsPrivate) {
  TempHome base;
  fs::path home = base.path() / "state" / "jobtape";
  {
    Umask open(0);
    auto store = openSqliteStore(home);
    auto build = testing::beginTestBuild(*store);
    testing::runTestJob(*store, build, JobStatus::failed);
  }
  EXPECT_EQ(modeOf(base.path() / "state"), 0700u);
  EXPECT_EQ(modeOf(home), 0700u);
  EXPECT_EQ(modeOf(home / "jobs"), 0700u);
  EXPECT_EQ(modeOf(home / "jobtape.db"), 0600u);
  // The WAL files outlive each command: they are there to check.
  EXPECT_EQ(modeOf(home / "jobtape.db-wal"), 0600u);
  EXPECT_EQ(modeOf(home / "jobtape.db-shm"), 0600u);
}

TEST(HomeSafetyTest, AHomeOthersCanWriteIsRefusedWithTheFix) {
  TempHome home;
  ::chmod(home.path().c_str(), 0777);
  auto [message, hint] = refusal(home.path());
  EXPECT_THAT(message, HasSubstr("the store " + home.path().string() + " is writable by others (mode 0777)"));
  EXPECT_EQ(hint, "fix it with: chmod 700 " + home.path().string());
  EXPECT_FALSE(fs::exists(home.path() / "jobtape.db")) << "nothing is made in a refused home";
  ::chmod(home.path().c_str(), 0770);
  EXPECT_THAT(refusal(home.path()).first, HasSubstr("(mode 0770)"));
}

TEST(HomeSafetyTest, ADatabaseOthersCanWriteIsRefused) {
  TempHome home;
  Store::open(home.path());
  ::chmod(home.db().c_str(), 0666);
  auto [message, hint] = refusal(home.path());
  EXPECT_THAT(message, HasSubstr(home.db().string() + " is writable by others (mode 0666)"));
  EXPECT_EQ(hint, "fix it with: chmod 600 " + home.db().string());
  EXPECT_THROW(Store::openReadOnlyIfExists(home.path()), StoreUnsafeError);
}

TEST(HomeSafetyTest, ADatabaseThatIsALinkIsRefused) {
  TempHome home;
  TempHome other;
  Store::open(other.path());
  fs::create_symlink(other.db(), home.db());
  EXPECT_THAT(refusal(home.path()).first, HasSubstr("is a symbolic link"));
  EXPECT_THROW(Store::openReadOnlyIfExists(home.path()), StoreUnsafeError);
}

TEST(HomeSafetyTest, AJobsDirectoryThatIsALinkIsRefused) {
  TempHome home;
  TempHome elsewhere;
  fs::create_directory_symlink(elsewhere.path(), home.path() / "jobs");
  EXPECT_THAT(refusal(home.path()).first, HasSubstr("is a symbolic link"));
}

TEST(HomeSafetyTest, AnOlderStoreReadableByOthersIsMadePrivate) {
  TempHome home;
  Store::open(home.path());
  ::chmod(home.db().c_str(), 0644);
  ::chmod((home.path() / "jobs").c_str(), 0755);
  Store::openReadOnlyIfExists(home.path());
  EXPECT_EQ(modeOf(home.db()), 0600u);
  EXPECT_EQ(modeOf(home.path() / "jobs"), 0700u);
}

TEST(HomeSafetyTest, AStoreOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the store away";
  struct passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  TempHome home;
  Store::open(home.path());
  ASSERT_EQ(::chown(home.path().c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  auto [message, hint] = refusal(home.path());
  EXPECT_THAT(message, HasSubstr("belongs to uid " + std::to_string(nobody->pw_uid)));
  EXPECT_THAT(message, HasSubstr("not to the caller (uid 0"));
  EXPECT_THROW(Store::openReadOnlyIfExists(home.path()), StoreUnsafeError);
  // The home is root's again, the database not.
  ASSERT_EQ(::chown(home.path().c_str(), 0, 0), 0);
  ASSERT_EQ(::chown(home.db().c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  EXPECT_THAT(refusal(home.path()).first, HasSubstr(home.db().string() + " belongs to uid"));
}

}  // namespace
}  // namespace jobtape::store
