// A job row names its directory only through its id, and only a ULID.
#include "store/job_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/test_support.h"

namespace jobtape::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Optional;
using testing::TempHome;

constexpr const char* kId = "01JD4X7QAB0000000000000000";

JobRow rowOf(const std::string& id, const std::string& localPath) {
  JobRow row;
  row.id = id;
  row.localPath = localPath;
  return row;
}

TEST(JobDirTest, ASoundRowIsItsDirectoryInTheHome) {
  TempHome home;
  fs::path dir = home.path() / "jobs" / kId;
  EXPECT_EQ(jobDirectoryOf(home.path(), rowOf(kId, dir.string())), dir);
  EXPECT_EQ(jobDirectoryOf(home.path(), rowOf(kId, "")), dir);
  EXPECT_EQ(jobDirectoryOf(home.path(), rowOf(kId, (home.path() / "jobs/./" / kId).string() + "/")), dir);
  EXPECT_EQ(jobDirectory(home.path(), kId), dir);
}

TEST(JobDirTest, AnIdThatIsNotAUlidIsDamage) {
  TempHome home;
  for (std::string id : {"./././/../../../x", "../../x", "", "01JD4X7QAB000000000000000/", "01jd4x7qab0000000000000000"}) {
    EXPECT_THAT(jobRowDamage(home.path(), rowOf(id, "")), Optional(HasSubstr("is not a ULID"))) << id;
    EXPECT_THROW(jobDirectoryOf(home.path(), rowOf(id, "")), DamagedJobRow) << id;
    EXPECT_THROW(jobDirectory(home.path(), id), DamagedJobRow) << id;
  }
}

TEST(JobDirTest, ARecordedPathOtherThanTheJobsDirectoryIsDamage) {
  TempHome home;
  TempHome outside;
  for (std::string path : std::vector<std::string>{outside.path().string(), "/", (home.path() / "jobs" / kId / ".." / ".." / "..").string(),
                           (home.path() / "jobs" / "01JD4X7QAB0000000000000001").string(), "relative/path"}) {
    EXPECT_THAT(jobRowDamage(home.path(), rowOf(kId, path)), Optional(HasSubstr("is not"))) << path;
    EXPECT_THROW(jobDirectoryOf(home.path(), rowOf(kId, path)), DamagedJobRow) << path;
  }
}

TEST(JobDirTest, AJobDirectoryThatIsALinkIsDamage) {
  TempHome home;
  TempHome outside;
  fs::create_directories(home.path() / "jobs");
  fs::create_directory_symlink(outside.path(), home.path() / "jobs" / kId);
  EXPECT_THAT(jobRowDamage(home.path(), rowOf(kId, "")), Optional(HasSubstr("symbolic link")));
}

}  // namespace
}  // namespace jobtape::store
