#include "store/sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fmt/format.h>

namespace jobtape::store::sqlite {

namespace {

std::string describe(sqlite3* db, int code, std::string_view sql, const std::filesystem::path& path) {
  const char* message = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  std::string text = fmt::format("sqlite: {} ({}, code {})", message, path.string(), code);
  if (!sql.empty()) text += fmt::format(" in: {}", sql);
  return text;
}

bool damage(int code) {
  int primary = code & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// Leaves DATABASE-damaged (best effort: the disk may be full) so that no
// later command writes to the file, then throws.
[[noreturn]] void refuseDamaged(sqlite3* db, int code, const std::filesystem::path& path) {
  std::string reason = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  std::string marker = path.string() + kDamagedMarkerSuffix;
  int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string line = reason + "\n";
    [[maybe_unused]] ssize_t written = ::write(fd, line.data(), line.size());
    ::close(fd);
  }
  throw StoreDamagedError(path, reason);
}

[[noreturn]] void throwSqliteError(sqlite3* db, int code, std::string_view sql, const std::filesystem::path& path) {
  if (damage(code)) refuseDamaged(db, code, path);
  throw SqliteError(code, std::string(sql), describe(db, code, sql, path));
}

}  // namespace

Database Database::open(const std::filesystem::path& path, Mode mode, int busyTimeoutMs) {
  // A database reached through a symlink is refused: whoever made the link
  // would choose the file.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
  if (mode == Mode::readWriteCreate) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    int code = db ? sqlite3_extended_errcode(db) : rc;
    std::string message = describe(db, code, "", path);
    sqlite3_close_v2(db);
    if (damage(code)) refuseDamaged(nullptr, code, path);
    throw SqliteError(code, "", message);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busyTimeoutMs);
  // Every `jobtape` command is a short process: without these, the last one
  // to close checkpoints and deletes the WAL (with fsyncs) and the next one
  // creates it again. Commits still checkpoint once the WAL reaches its
  // auto-checkpoint size (set small by the store), so it stays bounded.
  int on = 1;
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
  return Database(db, path);
}

Database::Database(Database&& other) noexcept
    : db_(other.db_), path_(std::move(other.path_)), cache_(std::move(other.cache_)), wal_(std::move(other.wal_)) {
  other.db_ = nullptr;
  other.cache_.clear();
  other.wal_ = std::make_unique<WalWatch>();
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = other.db_;
    path_ = std::move(other.path_);
    cache_ = std::move(other.cache_);
    wal_ = std::move(other.wal_);
    other.db_ = nullptr;
    other.cache_.clear();
    other.wal_ = std::make_unique<WalWatch>();
  }
  return *this;
}

Database::~Database() { close(); }

void Database::close() noexcept {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  cache_.clear();
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

void Database::setBusyTimeout(int busyTimeoutMs) { sqlite3_busy_timeout(db_, busyTimeoutMs); }

// Replaces SQLite's auto-checkpoint, itself a WAL hook. Its failures are
// ignored as SQLite ignores those of its own: the commit is done, and the
// next one tries again.
int Database::onWalCommit(void* context, sqlite3* db, const char* schema, int frames) {
  auto& watch = *static_cast<WalWatch*>(context);
  watch.frames = frames;
  if (watch.checkpointPast > 0 && frames >= watch.checkpointPast) {
    int walFrames = 0, copied = 0;
    if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &walFrames, &copied) == SQLITE_OK &&
        copied == walFrames) {
      watch.frames = 0;
    }
  }
  return SQLITE_OK;
}

void Database::checkpointCommitsPast(int frames) {
  wal_->checkpointPast = frames;
  sqlite3_wal_hook(db_, &Database::onWalCommit, wal_.get());
}

void Database::checkpoint() {
  int walFrames = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, &walFrames, &copied);
  if (rc != SQLITE_OK) fail(rc, "PRAGMA wal_checkpoint(PASSIVE)");
  if (copied == walFrames) wal_->frames = 0;
}

void Database::fail(std::string_view sql) const { fail(sqlite3_extended_errcode(db_), sql); }

void Database::fail(int code, std::string_view sql) const { throwSqliteError(db_, code, sql, path_); }

void Database::exec(std::string_view sql) {
  std::string owned(sql);
  int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(owned);
}

int64_t Database::queryInt(std::string_view sql) {
  Statement statement(*this, sql);
  if (!statement.step()) return 0;
  return statement.int64(0);
}

int64_t Database::lastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::changes() const { return sqlite3_changes(db_); }

Statement::Statement(Database& db, std::string_view sql) : db_(db), sql_(sql) {
  auto found = db.cache_.find(sql);
  if (found != db.cache_.end() && !found->second.inUse) {
    cached_ = &found->second;
    cached_->inUse = true;
    stmt_ = cached_->stmt;
    return;
  }
  int rc = sqlite3_prepare_v3(db.db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    db.fail(sql);
  }
  if (found == db.cache_.end()) {
    cached_ = &db.cache_.emplace(std::string(sql), Database::Cached{stmt_, true}).first->second;
  }
}

Statement::~Statement() {
  if (cached_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    cached_->inUse = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::bind(int index, int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) db_.fail(rc, sql_);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail(rc, sql_);
  return *this;
}

Statement& Statement::bindNull(int index) {
  if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) db_.fail(rc, sql_);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Reset first so that the statement releases its locks even though we throw.
  int code = sqlite3_extended_errcode(db_.db_);
  std::string message = describe(db_.db_, code, sql_, db_.path_);
  sqlite3_reset(stmt_);
  if (damage(code)) refuseDamaged(nullptr, code, db_.path_);
  throw SqliteError(code, std::string(sql_), message);
}

int Statement::run() {
  while (step()) {
  }
  sqlite3_reset(stmt_);  // ready to be bound and run again
  return sqlite3_changes(db_.db_);
}

bool Statement::isNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  if (!data) return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<int64_t> Statement::optionalInt64(int column) const {
  if (isNull(column)) return std::nullopt;
  return int64(column);
}

std::optional<int> Statement::optionalInt(int column) const {
  if (isNull(column)) return std::nullopt;
  return integer(column);
}

std::optional<std::string> Statement::optionalText(int column) const {
  if (isNull(column)) return std::nullopt;
  return text(column);
}

// BEGIN and COMMIT run as cached statements: through sqlite3_exec, every
// transaction parsed both again.
Transaction::Transaction(Database& db, Kind kind) : db_(db) {
  Statement(db_, kind == Kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED").run();
  open_ = true;
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  Statement(db_, "COMMIT").run();
  open_ = false;
}

}  // namespace jobtape::store::sqlite
