#include "store/job_removal.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <optional>
#include <system_error>

#include "store/home_safety.h"
#include "store/ulid.h"

namespace jobtape::store {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTrashPrefix = ".trash-";

// jobs/.trash-<id>, for an id already checked to be a ULID.
fs::path trashDir(const fs::path& jobDir) {
  return jobDir.parent_path() / (std::string(kTrashPrefix) + jobDir.filename().string());
}

bool present(const fs::path& path) {
  std::error_code error;
  return fs::exists(fs::symlink_status(path, error));
}

// Step 2 for one job: its directory moved to the trash (or found there, moved
// by an interrupted run). Returns the trash to empty, or nullopt when the
// job had no directory.
std::optional<fs::path> moveToTrash(RemovedJob& job, const fs::path& dir) {
  fs::path target = trashDir(dir);
  bool inPlace = present(dir);
  if (!inPlace && !present(target)) return std::nullopt;
  job.dir = dir;
  if (inPlace) {
    if (present(target)) removeTree(target);
    fs::rename(dir, target);
  }
  return target;
}

bool diskFull(const SqliteError& error) { return (error.extendedCode() & 0xff) == SQLITE_FULL; }

void deleteRows(SqliteStore& store, const std::vector<std::string>& ids, const char* sql) {
  auto locked = store.lockDatabase();
  sqlite::Transaction transaction(locked.db);
  for (const auto& id : ids) sqlite::Statement(locked.db, sql).bind(1, id).run();
  transaction.commit();
}

// Empties each trash directory into its job's bytes; what cannot be removed
// stays for the next gc's sweep.
void emptyTrash(std::vector<RemovedJob>& removed, std::vector<std::pair<size_t, fs::path>>& trash,
                std::vector<std::string>& problems) {
  for (const auto& [index, dir] : trash) {
    try {
      removed[index].bytes = removeTree(dir);
    } catch (const fs::filesystem_error& error) {
      problems.push_back(fmt::format("job {}: {}; left for the next gc", removed[index].id, error.what()));
    }
  }
  trash.clear();
}

// Moves each job's directory to the trash; `removed` gets the jobs whose
// files are out of the way (or never existed), `trash` what to empty.
void trashJobDirs(SqliteStore& store, std::vector<RemovedJob>& jobs, std::vector<RemovedJob>& removed,
                  std::vector<std::pair<size_t, fs::path>>& trash, std::vector<std::string>& problems) {
  for (auto& job : jobs) {
    try {
      fs::path dir = store.jobDir(job.id);
      if (auto target = moveToTrash(job, dir)) trash.emplace_back(removed.size(), *target);
    } catch (const DamagedJobRow& damaged) {
      problems.push_back(std::string(damaged.what()) + "; its row was removed, no file was touched");
    } catch (const fs::filesystem_error& error) {
      problems.push_back(fmt::format("job {}: {}; left for the next gc", job.id, error.what()));
      continue;
    }
    removed.push_back(std::move(job));
  }
}

std::vector<std::string> idsOf(const std::vector<RemovedJob>& jobs) {
  std::vector<std::string> ids;
  for (const auto& job : jobs) ids.push_back(job.id);
  return ids;
}

// Steps 2 to 4 of a removal, for rows already marked deleting: move each
// directory to the trash, delete the rows, empty the trash. A job whose
// directory cannot be moved keeps its marked row; a trash that cannot be
// emptied stays for the next gc's sweep. Neither stops the others. On a full
// disk the trash is emptied first (readers no longer see the marked rows),
// and the rows deleted once that freed room.
void finishRemoval(SqliteStore& store, std::vector<RemovedJob>& jobs, std::vector<std::string>& problems) {
  std::vector<std::pair<size_t, fs::path>> trash;
  std::vector<RemovedJob> removed;
  trashJobDirs(store, jobs, removed, trash, problems);
  constexpr const char* kDelete = "DELETE FROM jobs WHERE id = ? AND deleting != 0";
  try {
    deleteRows(store, idsOf(removed), kDelete);
  } catch (const SqliteError& error) {
    if (!diskFull(error)) throw;
    emptyTrash(removed, trash, problems);
    try {
      deleteRows(store, idsOf(removed), kDelete);
    } catch (const SqliteError& again) {
      if (!diskFull(again)) throw;
      problems.push_back(fmt::format("the disk is full: the rows of {} removed job(s) stay marked in {}; "
                                     "the next gc deletes them", removed.size(), kDatabaseName));
    }
  }
  emptyTrash(removed, trash, problems);
  jobs = std::move(removed);
}

// Removal on a disk too full to mark the rows first: the files go first
// (each directory renamed into the trash, then emptied), then the rows. A
// crash in between leaves finished jobs whose directory is gone, which
// readers report as such and the next gc removes; never a running job's
// files, and never a directory of a row that stays.
void removeFilesFirst(SqliteStore& store, std::vector<RemovedJob>& jobs, std::vector<std::string>& problems) {
  std::vector<std::pair<size_t, fs::path>> trash;
  std::vector<RemovedJob> removed;
  trashJobDirs(store, jobs, removed, trash, problems);
  emptyTrash(removed, trash, problems);
  try {
    deleteRows(store, idsOf(removed), "DELETE FROM jobs WHERE id = ? AND result IS NOT NULL");
  } catch (const SqliteError& error) {
    if (!diskFull(error)) throw;
    problems.push_back(fmt::format("the disk is full: the files of {} job(s) were removed, their rows stay in {}; "
                                   "the next gc deletes them", removed.size(), kDatabaseName));
  }
  jobs = std::move(removed);
}

JobStatus statusFromText(const std::string& text) {
  if (text == "succeeded") return JobStatus::succeeded;
  if (text == "abandoned") return JobStatus::abandoned;
  return JobStatus::failed;
}

}  // namespace

std::vector<RemovedJob> removeJobs(SqliteStore& store, const std::vector<std::string>& ids,
                                   std::vector<std::string>& problems) {
  std::vector<RemovedJob> marked;
  try {
    auto locked = store.lockDatabase();
    sqlite::Transaction transaction(locked.db);
    for (const auto& id : ids) {
      sqlite::Statement select(locked.db, "SELECT result, stopped_at FROM jobs WHERE id = ? AND result IS NOT NULL");
      select.bind(1, id);
      if (!select.step()) continue;
      marked.push_back(RemovedJob{id, statusFromText(select.text(0)), select.optionalInt64(1).value_or(0), {}, 0});
      sqlite::Statement(locked.db, "UPDATE jobs SET deleting = 1 WHERE id = ?").bind(1, id).run();
    }
    transaction.commit();
  } catch (const SqliteError& error) {
    if (!diskFull(error)) throw;
    removeFilesFirst(store, marked, problems);
    return marked;
  }
  finishRemoval(store, marked, problems);
  return marked;
}

std::vector<fs::path> leftoverDirs(SqliteStore& store) {
  std::vector<fs::path> trash, orphans;
  std::error_code error;
  const int64_t cutoff = store.now() - kOrphanAgeMs;
  for (fs::directory_iterator it(store.home() / kJobsDirName, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(kTrashPrefix)) {
      trash.push_back(it->path());
    } else if (isUlid(name) && static_cast<int64_t>(ulidTimeMs(name)) < cutoff &&
               it->symlink_status(error).type() == fs::file_type::directory) {
      orphans.push_back(it->path());
    }
  }
  if (!orphans.empty()) {
    auto locked = store.lockDatabase();
    std::erase_if(orphans, [&locked](const fs::path& dir) {
      sqlite::Statement known(locked.db, "SELECT 1 FROM jobs WHERE id = ?");
      known.bind(1, dir.filename().string());
      return known.step();
    });
  }
  trash.insert(trash.end(), orphans.begin(), orphans.end());
  return trash;
}

int sweepLeftovers(SqliteStore& store, uint64_t& bytes, std::vector<std::string>& problems) {
  std::vector<RemovedJob> marked;
  {
    auto locked = store.lockDatabase();
    sqlite::Statement select(locked.db, "SELECT id, result, stopped_at FROM jobs WHERE deleting != 0");
    while (select.step()) {
      marked.push_back(RemovedJob{select.text(0), statusFromText(select.text(1)),
                                  select.optionalInt64(2).value_or(0), {}, 0});
    }
  }
  finishRemoval(store, marked, problems);
  int swept = static_cast<int>(marked.size());
  for (const auto& job : marked) bytes += job.bytes;

  for (const auto& dir : leftoverDirs(store)) {
    try {
      bytes += removeTree(dir);
      ++swept;
    } catch (const fs::filesystem_error& error) {
      problems.push_back(fmt::format("{}; left for the next gc", error.what()));
    }
  }
  return swept;
}

}  // namespace jobtape::store
