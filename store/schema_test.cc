// Opening and migrating jobtape.db, and refusing what is not a usable store.
#include "store/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>

#include "store/test_support.h"

namespace jobtape::store {
namespace {

using ::testing::HasSubstr;
using testing::readFile;
using testing::TempHome;
using testing::writeFile;

sqlite::Database rawOpen(const std::filesystem::path& path) {
  return sqlite::Database::open(path, sqlite::Database::Mode::readWriteCreate);
}

// Opening `home` must fail with StoreOpenError naming the file and saying
// `expected`, and leave the file byte for byte as it was.
void expectRefused(const TempHome& home, const std::string& expected) {
  std::string before = testing::readFile(home.db());
  try {
    Store::open(home.path());
    FAIL() << "store opened";
  } catch (const StoreOpenError& error) {
    std::string message = error.what();
    EXPECT_THAT(message, HasSubstr(home.db().string()));
    EXPECT_THAT(message, HasSubstr(expected));
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line";
  }
  EXPECT_EQ(testing::readFile(home.db()), before) << "refused file was modified";
  EXPECT_THROW(Store::openReadOnlyIfExists(home.path()), StoreOpenError);
}

TEST(Schema, NewHomeGetsAStoreInWalModeWithOurIds) {
  TempHome home;
  auto store = Store::open(home.path() / "nested" / "home");
  EXPECT_TRUE(std::filesystem::is_directory(home.path() / "nested" / "home" / "jobs"));
  auto db = rawOpen(home.path() / "nested" / "home" / "jobtape.db");
  EXPECT_EQ(db.queryInt("PRAGMA application_id"), kApplicationId);
  EXPECT_EQ(db.queryInt("PRAGMA user_version"), kSchemaVersion);
  sqlite::Statement mode(db, "PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
}

TEST(Schema, ForeignKeysAreEnforced) {
  TempHome home;
  auto store = Store::open(home.path());
  JobStart start;
  start.buildId = "01ARYZ6S41TSV4RRFFQ69G5FAV";  // no such build
  EXPECT_THROW(store->beginJob(store->newJobId(), start), SqliteError);
}

TEST(Schema, EmptyFileBecomesAStore) {
  TempHome home;
  writeFile(home.db(), "");
  auto store = Store::open(home.path());
  auto db = rawOpen(home.db());
  EXPECT_EQ(db.queryInt("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(db.queryInt("SELECT count(*) FROM jobs"), 0);
}

TEST(Schema, VersionOneStoreOpensWithItsData) {
  TempHome home;
  {
    auto db = rawOpen(home.db());
    migrateTo(db, 1);
    db.exec("INSERT INTO builds (id, started_at, command_line) VALUES ('01ARYZ6S41TSV4RRFFQ69G5FAV', 1, 'make')");
  }
  auto store = Store::open(home.path());
  auto build = store->build("01ARYZ6S41TSV4RRFFQ69G5FAV");
  ASSERT_TRUE(build);
  EXPECT_EQ(build->commandLine, "make");
  EXPECT_EQ(rawOpen(home.db()).queryInt("PRAGMA user_version"), kSchemaVersion);
}

TEST(Schema, StoreFromANewerJobtapeIsRefused) {
  TempHome home;
  {
    auto db = rawOpen(home.db());
    migrateTo(db, kSchemaVersion);
    db.exec("PRAGMA user_version = 99");
  }
  expectRefused(home, "newer jobtape (store schema 99");
}

TEST(Schema, ForeignSqliteDatabaseIsRefused) {
  TempHome home;
  {
    auto db = rawOpen(home.db());
    db.exec("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO moz_places VALUES (1, 'x')");
  }
  expectRefused(home, "SQLite database of another program");
}

TEST(Schema, SqliteDatabaseWithAnotherApplicationIdIsRefused) {
  TempHome home;
  { rawOpen(home.db()).exec("PRAGMA application_id = 1886611812"); }
  expectRefused(home, "application id 0x70736964");
}

TEST(Schema, RandomBytesAreRefused) {
  TempHome home;
  std::mt19937 random(42);
  std::string bytes(8192, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  writeFile(home.db(), bytes);
  expectRefused(home, "is damaged (file is not a database)");
}

TEST(Schema, CorruptStoreIsRefused) {
  TempHome home;
  { Store::open(home.path()); }
  // The store keeps its WAL between commands: fold it into the file first.
  { rawOpen(home.db()).exec("PRAGMA wal_checkpoint(TRUNCATE)"); }
  std::filesystem::remove(home.db().string() + "-wal");
  std::filesystem::remove(home.db().string() + "-shm");
  std::string bytes = readFile(home.db());
  ASSERT_GT(bytes.size(), 4096u);
  // Page 1 keeps its valid 100-byte header; its b-tree (sqlite_schema) is
  // overwritten.
  for (size_t i = 100; i < 4096; ++i) bytes[i] = static_cast<char>(0xA5);
  writeFile(home.db(), bytes);
  expectRefused(home, "is damaged (database disk image is malformed)");
  EXPECT_TRUE(std::filesystem::exists(home.db().string() + kDamagedMarkerSuffix)) << "nothing more is written";
}

TEST(Schema, OurIdsWithoutOurTablesIsRefused) {
  TempHome home;
  { rawOpen(home.db()).exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = 1", kApplicationId)); }
  expectRefused(home, "damaged jobtape store");
}

TEST(Schema, ReadOnlyIfExistsDoesNotCreateAnything) {
  TempHome home;
  auto missing = home.path() / "nowhere";
  EXPECT_EQ(Store::openReadOnlyIfExists(missing), nullptr);
  EXPECT_FALSE(std::filesystem::exists(missing));
  { Store::open(home.path()); }
  EXPECT_NE(Store::openReadOnlyIfExists(home.path()), nullptr);
}

TEST(Schema, UnwritableHomeIsAStoreOpenError) {
  TempHome home;  // mode 0700: other users cannot enter it
  std::filesystem::permissions(home.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  // As root, try as nobody: root itself ignores directory permissions.
  pid_t child = testing::forkChild([&] {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) throw std::runtime_error("cannot become nobody");
    try {
      Store::open(home.path() / "sub");
    } catch (const StoreOpenError& error) {
      if (std::string(error.what()).find("Permission denied") == std::string::npos) throw;
      return;
    }
    throw std::runtime_error("store opened in an unwritable home");
  });
  EXPECT_EQ(testing::waitExit(child), 0);
  std::filesystem::permissions(home.path(), std::filesystem::perms::owner_all);
}

TEST(Schema, EveryQueryUsesAnIndex) {
  TempHome home;
  { Store::open(home.path()); }
  auto db = rawOpen(home.db());
  const char* queries[] = {
      "SELECT id FROM jobs WHERE result IN ('failed', 'abandoned') AND deleting = 0 ORDER BY id DESC LIMIT 1",
      "SELECT * FROM jobs WHERE id = (SELECT id FROM jobs WHERE result IN ('failed', 'abandoned') AND deleting = 0 "
      "ORDER BY id DESC LIMIT 1 OFFSET 5)",
      "SELECT COALESCE(sum(n), 0) FROM job_counts WHERE result IN ('failed', 'abandoned')",
      "SELECT id FROM jobs WHERE result = 'succeeded' AND deleting = 0 ORDER BY id DESC LIMIT 1",
      "SELECT id FROM jobs WHERE result IS NULL",
      "SELECT id FROM jobs WHERE pid = 5 AND deleting = 0 ORDER BY id DESC LIMIT 1",
      "SELECT id FROM jobs WHERE recipe_hash = 'ab' AND deleting = 0 ORDER BY id DESC LIMIT 1",
      "SELECT min(recipe_hash) FROM jobs WHERE recipe_hash >= 'ab' AND recipe_hash < 'ab~'",
      "SELECT id FROM jobs WHERE id >= '01J' AND id < '01J~' AND deleting = 0 ORDER BY id LIMIT 11",
      "SELECT id FROM jobs WHERE build_id = 'x' AND deleting = 0 ORDER BY id",
      "SELECT id FROM jobs WHERE build_projects_id IN (SELECT id FROM build_projects WHERE local_project_path = 'p' "
      "UNION SELECT id FROM build_projects WHERE registry_project_name = 'p') ORDER BY id DESC",
      "SELECT id FROM builds WHERE result = 'failed' ORDER BY id DESC LIMIT 1",
      "SELECT id FROM builds WHERE parent_job_id IN (SELECT id FROM jobs WHERE build_id = 'x')",
      "SELECT id FROM jobs WHERE deleting != 0",
  };
  for (const char* query : queries) {
    sqlite::Statement plan(db, std::string("EXPLAIN QUERY PLAN ") + query);
    std::string steps;
    bool fullScan = false;
    while (plan.step()) {
      std::string detail = plan.text(3);
      steps += detail + "; ";
      // "SCAN jobs" reads the whole table; "SCAN jobs USING INDEX ..." walks
      // an index in order and stops at the LIMIT.
      if (detail.starts_with("SCAN ") && detail.find("USING") == std::string::npos &&
          detail.find("LIST SUBQUERY") == std::string::npos) {
        fullScan = true;
      }
    }
    EXPECT_FALSE(fullScan) << query << "\n" << steps;
  }
}

}  // namespace
}  // namespace jobtape::store
