// A thin RAII layer over the SQLite C API: a connection, cached prepared
// statements that reset themselves when they go out of scope, and write
// transactions that roll back unless committed. Every failure throws
// SqliteError carrying the extended result code and the SQL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace jobtape::store::sqlite {

class Database {
 public:
  enum class Mode { readWrite, readWriteCreate };

  // Opens the file; busy handler set to `busyTimeoutMs` so that concurrent
  // writers wait for each other instead of failing with SQLITE_BUSY.
  static Database open(const std::filesystem::path& path, Mode mode, int busyTimeoutMs = 10'000);

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that return no rows of interest.
  void exec(std::string_view sql);
  // First column of the first row of a one-value query (e.g. a PRAGMA).
  int64_t queryInt(std::string_view sql);

  // Replaces the busy handler's timeout (e.g. short for a write that may wait).
  void setBusyTimeout(int busyTimeoutMs);

  // Checkpoints of the WAL. SQLite's own auto-checkpoint runs inside the
  // commit that crosses its threshold, with its two fdatasyncs, while the
  // committer waits; this connection's commits checkpoint by themselves
  // (PASSIVE) only once the WAL holds `frames`, and leave the checkpoints
  // below that to an owner that can run them where nobody waits for them.
  void checkpointCommitsPast(int frames);
  // Frames in the WAL after this connection's last commit; 0 once a
  // checkpoint here copied all of them (the next commit starts the WAL over).
  int64_t walFrames() const noexcept { return wal_->frames; }
  // A PASSIVE checkpoint: copies what it can without waiting for readers or
  // writers. Throws SqliteError.
  void checkpoint();

  int64_t lastInsertRowid() const;
  int changes() const;
  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Throws SqliteError for the connection's current error.
  [[noreturn]] void fail(std::string_view sql) const;
  [[noreturn]] void fail(int code, std::string_view sql) const;

 private:
  friend class Statement;
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool inUse = false;
  };
  void close() noexcept;
  // What the WAL hook sees; on the heap, so that it stays put when the
  // Database moves.
  struct WalWatch {
    int64_t frames = 0;
    int checkpointPast = 0;  // 0: commits never checkpoint
  };
  static int onWalCommit(void* watch, sqlite3* db, const char* schema, int frames);

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  std::map<std::string, Cached, std::less<>> cache_;
  std::unique_ptr<WalWatch> wal_ = std::make_unique<WalWatch>();
};

// A prepared statement borrowed from the connection's cache (or prepared
// afresh when the cached one is busy, e.g. in a nested use). Reset and
// unbound on destruction, so it never holds a read transaction open.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters count from 1, as in SQLite.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, uint64_t value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, bool value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bindNull(int index);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bindNull(index);
  }

  // Advances; true while a row is available.
  bool step();
  // Runs a statement that returns no rows, then resets it so that it can be
  // bound and run again; returns sqlite3_changes().
  int run();

  bool isNull(int column) const;
  int64_t int64(int column) const;
  int integer(int column) const { return static_cast<int>(int64(column)); }
  std::string text(int column) const;
  std::optional<int64_t> optionalInt64(int column) const;
  std::optional<int> optionalInt(int column) const;
  std::optional<std::string> optionalText(int column) const;

 private:
  Database& db_;
  std::string_view sql_;
  sqlite3_stmt* stmt_ = nullptr;
  Database::Cached* cached_ = nullptr;  // null when privately prepared
};

// BEGIN IMMEDIATE (writes) or BEGIN DEFERRED (consistent reads); rolls back
// in the destructor unless commit() succeeded.
class Transaction {
 public:
  enum class Kind { immediate, deferred };
  explicit Transaction(Database& db, Kind kind = Kind::immediate);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool open_ = false;
};

}  // namespace jobtape::store::sqlite
