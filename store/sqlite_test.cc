#include "store/sqlite.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>

#include "store/test_support.h"

namespace jobtape::store::sqlite {
namespace {

using testing::TempHome;

Database openTable(const TempHome& home, int busyTimeoutMs = 10'000) {
  auto db = Database::open(home.path() / "t.db", Database::Mode::readWriteCreate, busyTimeoutMs);
  db.exec("PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER)");
  return db;
}

TEST(Sqlite, BindsAndReadsTypedValues) {
  TempHome home;
  auto db = openTable(home);
  Statement(db, "INSERT INTO t VALUES (?, ?)").bind(1, "a").bind(2, int64_t{1} << 40).run();
  Statement(db, "INSERT INTO t VALUES (?, ?)").bind(1, std::string("b")).bind(2, std::optional<int>()).run();
  Statement select(db, "SELECT k, v FROM t ORDER BY k");
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.text(0), "a");
  EXPECT_EQ(select.int64(1), int64_t{1} << 40);
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.optionalInt(1), std::nullopt);
  EXPECT_FALSE(select.step());
}

TEST(Sqlite, StatementIsResetWhenItGoesOutOfScope) {
  TempHome home;
  auto db = openTable(home);
  for (const char* key : {"a", "b", "c"}) Statement(db, "INSERT INTO t VALUES (?, 0)").bind(1, key).run();
  {
    Statement select(db, "SELECT k FROM t ORDER BY k");
    ASSERT_TRUE(select.step());  // left mid-way
  }
  // No statement still holds a read open.
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.handle(), nullptr); s; s = sqlite3_next_stmt(db.handle(), s)) {
    EXPECT_FALSE(sqlite3_stmt_busy(s)) << sqlite3_sql(s);
  }
  Statement again(db, "SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(again.step());
  EXPECT_EQ(again.text(0), "a");
}

TEST(Sqlite, NestedUseOfTheSameSqlGetsItsOwnStatement) {
  TempHome home;
  auto db = openTable(home);
  for (const char* key : {"a", "b"}) Statement(db, "INSERT INTO t VALUES (?, 0)").bind(1, key).run();
  Statement outer(db, "SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(outer.step());
  Statement inner(db, "SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(inner.step());
  ASSERT_TRUE(inner.step());
  EXPECT_EQ(inner.text(0), "b");
  EXPECT_EQ(outer.text(0), "a");
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  TempHome home;
  auto db = openTable(home);
  {
    Transaction transaction(db);
    Statement(db, "INSERT INTO t VALUES ('gone', 1)").run();
  }
  EXPECT_EQ(db.queryInt("SELECT count(*) FROM t"), 0);
  {
    Transaction transaction(db);
    Statement(db, "INSERT INTO t VALUES ('kept', 1)").run();
    transaction.commit();
  }
  EXPECT_EQ(db.queryInt("SELECT count(*) FROM t"), 1);
}

TEST(Sqlite, ErrorsCarryTheExtendedCodeAndTheSql) {
  TempHome home;
  auto db = openTable(home);
  Statement(db, "INSERT INTO t VALUES ('a', 1)").run();
  try {
    Statement(db, "INSERT INTO t VALUES ('a', 2)").run();
    FAIL() << "duplicate key accepted";
  } catch (const SqliteError& error) {
    EXPECT_EQ(error.extendedCode(), SQLITE_CONSTRAINT_PRIMARYKEY);
    EXPECT_EQ(error.sql(), "INSERT INTO t VALUES ('a', 2)");
    EXPECT_NE(std::string(error.what()).find("UNIQUE constraint failed"), std::string::npos);
  }
  try {
    Statement(db, "SELEKT 1");
    FAIL() << "syntax error accepted";
  } catch (const SqliteError& error) {
    EXPECT_EQ(error.extendedCode(), SQLITE_ERROR);
    EXPECT_EQ(error.sql(), "SELEKT 1");
  }
}

TEST(Sqlite, WriterWaitsForAnotherWriterInsteadOfFailing) {
  TempHome home;
  auto first = openTable(home);
  auto second = openTable(home);
  auto holder = std::make_unique<Transaction>(first);
  Statement(first, "INSERT INTO t VALUES ('first', 1)").run();
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    holder->commit();
  });
  {
    Transaction transaction(second);  // blocks in the busy handler, then succeeds
    Statement(second, "INSERT INTO t VALUES ('second', 2)").run();
    transaction.commit();
  }
  release.join();
  EXPECT_EQ(second.queryInt("SELECT count(*) FROM t"), 2);
}

TEST(Sqlite, WithoutBusyTimeoutTheLockConflictIsATypedError) {
  TempHome home;
  auto first = openTable(home);
  auto second = openTable(home, 0);
  Transaction holder(first);
  try {
    Transaction transaction(second);
    FAIL() << "second writer got the lock";
  } catch (const SqliteError& error) {
    EXPECT_EQ(error.extendedCode() & 0xff, SQLITE_BUSY);
    EXPECT_EQ(error.sql(), "BEGIN IMMEDIATE");
  }
}

// Frames in the WAL as another connection finds them (the PASSIVE
// checkpoint it runs to ask copies nothing when none are new).
int64_t walFramesSeenByAnother(const TempHome& home) {
  auto other = Database::open(home.path() / "t.db", Database::Mode::readWrite);
  Statement ask(other, "PRAGMA wal_checkpoint(PASSIVE)");
  return ask.step() ? ask.int64(1) : -1;
}

TEST(Sqlite, CommitsBelowTheBackstopLeaveTheCheckpointToTheOwner) {
  TempHome home;
  auto db = openTable(home);
  db.checkpointCommitsPast(1000);
  for (int i = 0; i < 20; ++i) Statement(db, "INSERT INTO t VALUES (?, 0)").bind(1, std::to_string(i)).run();
  EXPECT_GE(db.walFrames(), 20);
  const int64_t frames = db.walFrames();
  db.checkpoint();
  EXPECT_EQ(db.walFrames(), 0);
  Statement(db, "INSERT INTO t VALUES ('after', 0)").run();
  EXPECT_LT(db.walFrames(), frames) << "the WAL starts over after a whole checkpoint";
}

TEST(Sqlite, ACommitPastTheBackstopCheckpointsByItself) {
  TempHome home;
  auto db = openTable(home);
  db.checkpointCommitsPast(8);
  int64_t most = 0;
  for (int i = 0; i < 40; ++i) {
    Statement(db, "INSERT INTO t VALUES (?, 0)").bind(1, std::to_string(i)).run();
    most = std::max(most, db.walFrames());
  }
  EXPECT_LT(most, 8);
  EXPECT_LT(walFramesSeenByAnother(home), 8);
}

TEST(Sqlite, TheWalWatchMovesWithTheConnection) {
  TempHome home;
  auto first = openTable(home);
  first.checkpointCommitsPast(1000);
  Database moved = std::move(first);
  for (int i = 0; i < 5; ++i) Statement(moved, "INSERT INTO t VALUES (?, 0)").bind(1, std::to_string(i)).run();
  EXPECT_GE(moved.walFrames(), 5);
}

TEST(Sqlite, OpeningAMissingFileWithoutCreateFails) {
  TempHome home;
  EXPECT_THROW(Database::open(home.path() / "missing.db", Database::Mode::readWrite), SqliteError);
  EXPECT_FALSE(std::filesystem::exists(home.path() / "missing.db"));
}

}  // namespace
}  // namespace jobtape::store::sqlite
