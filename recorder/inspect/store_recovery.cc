// recoverStore of <jobtape/actions.h>: a fresh jobtape.db from the events
// files of jobs/.
#include <fmt/format.h>

#include <jobtape/actions.h>
#include <algorithm>
#include <chrono>
#include <set>
#include <system_error>

#include "recorder/events/event_reader.h"
#include "recorder/inspect/public_records.h"
#include "recorder/job_command_line.h"
#include "recorder/job_finish_recovery.h"
#include "store/home_safety.h"
#include "store/job_dir.h"
#include "store/sqlite_store.h"
#include "store/ulid.h"

namespace jobtape {

namespace fs = std::filesystem;

namespace {

// Moves jobtape.db and its -wal and -shm aside, under one new name.
fs::path moveDatabaseAside(const fs::path& home) {
  fs::path database = home / store::kDatabaseName;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(database, ec))) return {};
  fs::path kept = home / fmt::format("{}.damaged-{}", store::kDatabaseName, store::wallClockMs());
  for (const char* suffix : {"-wal", "-shm", ""}) {
    fs::path from = database.string() + suffix;
    if (fs::exists(fs::symlink_status(from, ec))) fs::rename(from, kept.string() + suffix);
  }
  return kept;
}

// The row of one job, from its events file; nullopt when it has none.
std::optional<store::JobRow> rowFromEventsFile(const fs::path& dir, std::string& host) {
  auto reader = recorder::EventReader::openIfReadable(store::eventsFileIn(dir));
  if (!reader) return std::nullopt;
  const recorder::JobDescription& description = reader->description();
  if (description.jobId != dir.filename().string()) return std::nullopt;  // not this directory's
  store::JobRow row;
  row.id = description.jobId;
  row.buildId = description.buildId;
  row.startedAtMs = description.startedAtUnixNs / 1'000'000;
  row.recipeHash = description.recipeHash;
  row.recipeMeta = sandbox::recipeToJson(description.recipe);
  row.command = displayCommand(description.recipe.command, description.recipe.args);
  row.name = description.recipe.name;
  row.localPath = dir.string();
  std::error_code ec;
  row.stateKept = fs::is_directory(store::stateDirIn(dir), ec);
  host = description.host;
  reader.reset();
  if (auto finish = recorder::finishRecordedIn(dir)) {
    row.status = finish->result;
    row.exitCode = finish->exitCode;
    row.signal = finish->signal;
    row.outcome = finish->outcome;
    row.rusage = finish->rusage;
  } else {
    row.status = store::JobStatus::abandoned;
  }
  auto modified = fs::last_write_time(store::eventsFileIn(dir), ec);
  if (!ec) {
    auto since = std::chrono::file_clock::to_sys(modified).time_since_epoch();
    row.stoppedAtMs = std::max(row.startedAtMs, std::chrono::duration_cast<std::chrono::milliseconds>(since).count());
  }
  return row;
}

}  // namespace

RecoveryReport recoverStore(const HomeOptions& options) {
  return recorder::publicErrors([&] {
    fs::path home = store::resolveHome(options.home);
    store::prepareHome(home, false);
    RecoveryReport report;
    report.keptAs = moveDatabaseAside(home);
    std::error_code ec;
    fs::remove(home / (std::string(store::kDatabaseName) + store::kDamagedMarkerSuffix), ec);
    auto store = store::openSqliteStore(home);
    std::set<std::string> builds;
    for (fs::directory_iterator it(home / store::kJobsDirName, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!store::isUlid(name) || !it->is_directory(ec)) continue;
      std::string host;
      auto row = rowFromEventsFile(it->path(), host);
      if (!row) {
        report.skipped.push_back(it->path().string());
        continue;
      }
      store->restoreJob(*row, {host, std::nullopt});
      builds.insert(row->buildId);
      ++report.jobs;
    }
    store->settleRestoredBuilds();
    report.builds = static_cast<int>(builds.size());
    return report;
  });
}

}  // namespace jobtape
