#include "store/job_removal.h"

#include <sys/stat.h>

#include <system_error>

#include "store/ulid.h"

namespace jobtape::store {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTrashPrefix = ".trash-";

fs::path trashDir(const Store& store, const std::string& id) {
  return store.home() / "jobs" / (std::string(kTrashPrefix) + id);
}

void makeWritable(const fs::path& dir) {
  std::error_code ignored;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ignored);
  for (fs::directory_iterator it(dir, ignored), end; !ignored && it != end; it.increment(ignored)) {
    if (it->symlink_status(ignored).type() == fs::file_type::directory) makeWritable(it->path());
  }
}

// Steps 2 to 4 of a removal, for rows already marked deleting: move each
// directory to the trash, delete the rows, empty the trash.
void finishRemoval(SqliteStore& store, std::vector<RemovedJob>& jobs) {
  std::vector<fs::path> trash;
  for (auto& job : jobs) {
    fs::path dir = store.jobDir(job.id);
    fs::path target = trashDir(store, job.id);
    std::error_code error;
    bool inPlace = fs::exists(fs::symlink_status(dir, error));
    bool inTrash = fs::exists(fs::symlink_status(target, error));
    if (!inPlace && !inTrash) continue;
    job.dir = dir;
    if (inPlace) {
      job.bytes = diskUsage(dir);
      if (inTrash) removeTree(target);
      fs::rename(dir, target);
    } else {
      job.bytes = diskUsage(target);  // moved by an interrupted run
    }
    trash.push_back(target);
  }
  {
    auto locked = store.lockDatabase();
    sqlite::Transaction transaction(locked.db);
    for (const auto& job : jobs) {
      sqlite::Statement(locked.db, "DELETE FROM jobs WHERE id = ? AND deleting != 0").bind(1, job.id).run();
    }
    transaction.commit();
  }
  for (const auto& dir : trash) removeTree(dir);
}

JobStatus statusFromText(const std::string& text) {
  if (text == "succeeded") return JobStatus::succeeded;
  if (text == "abandoned") return JobStatus::abandoned;
  return JobStatus::failed;
}

}  // namespace

uint64_t diskUsage(const fs::path& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return 0;
  uint64_t total = static_cast<uint64_t>(st.st_blocks) * 512;
  if (!S_ISDIR(st.st_mode)) return total;
  std::error_code error;
  for (fs::directory_iterator it(path, fs::directory_options::skip_permission_denied, error), end;
       !error && it != end; it.increment(error)) {
    total += diskUsage(it->path());
  }
  return total;
}

void removeTree(const fs::path& path) {
  std::error_code error;
  fs::remove_all(path, error);
  if (!error) return;
  makeWritable(path);
  fs::remove_all(path, error);
  // Another gc may have removed it under us.
  if (error && fs::exists(fs::symlink_status(path))) {
    throw fs::filesystem_error("cannot remove job directory", path, error);
  }
}

std::vector<RemovedJob> removeJobs(SqliteStore& store, const std::vector<std::string>& ids) {
  std::vector<RemovedJob> marked;
  {
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
  }
  finishRemoval(store, marked);
  return marked;
}

std::vector<fs::path> leftoverDirs(SqliteStore& store) {
  std::vector<fs::path> trash, orphans;
  std::error_code error;
  const int64_t cutoff = store.now() - kOrphanAgeMs;
  for (fs::directory_iterator it(store.home() / "jobs", error), end; !error && it != end; it.increment(error)) {
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

int sweepLeftovers(SqliteStore& store, uint64_t& bytes) {
  std::vector<RemovedJob> marked;
  {
    auto locked = store.lockDatabase();
    sqlite::Statement select(locked.db, "SELECT id, result, stopped_at FROM jobs WHERE deleting != 0");
    while (select.step()) {
      marked.push_back(RemovedJob{select.text(0), statusFromText(select.text(1)),
                                  select.optionalInt64(2).value_or(0), {}, 0});
    }
  }
  finishRemoval(store, marked);
  int swept = static_cast<int>(marked.size());
  for (const auto& job : marked) bytes += job.bytes;

  for (const auto& dir : leftoverDirs(store)) {
    bytes += diskUsage(dir);
    removeTree(dir);
    ++swept;
  }
  return swept;
}

}  // namespace jobtape::store
