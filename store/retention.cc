#include "store/retention.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>

#include "store/job_removal.h"
#include "store/sqlite_store.h"
#include "store/tree_removal.h"
#include "store/ulid.h"

namespace jobtape::store {

namespace fs = std::filesystem;

namespace {

constexpr size_t kBatch = 256;  // rows per transaction: short write locks

JobStatus statusFromText(const std::string& text) {
  if (text == "succeeded") return JobStatus::succeeded;
  if (text == "abandoned") return JobStatus::abandoned;
  return JobStatus::failed;
}

// Fills temp.gc_plan with the ids the policy removes; returns them, most
// recent first.
std::vector<RemovedJob> plan(SqliteStore& store, const RetentionPolicy& policy) {
  auto locked = store.lockDatabase();
  auto& db = locked.db;
  db.exec("CREATE TEMP TABLE IF NOT EXISTS gc_plan (id TEXT PRIMARY KEY); DELETE FROM temp.gc_plan");
  if (policy.keepFailed) {
    sqlite::Statement(db,
                      "INSERT OR IGNORE INTO temp.gc_plan SELECT id FROM jobs WHERE result IN ('failed', "
                      "'abandoned') AND deleting = 0 ORDER BY id DESC LIMIT -1 OFFSET ?")
        .bind(1, *policy.keepFailed)
        .run();
  }
  if (policy.keepSucceeded) {
    sqlite::Statement(db,
                      "INSERT OR IGNORE INTO temp.gc_plan SELECT id FROM jobs WHERE result = 'succeeded' "
                      "AND deleting = 0 ORDER BY id DESC LIMIT -1 OFFSET ?")
        .bind(1, *policy.keepSucceeded)
        .run();
  }
  if (policy.olderThan) {
    sqlite::Statement(db,
                      "INSERT OR IGNORE INTO temp.gc_plan SELECT id FROM jobs WHERE result IS NOT NULL "
                      "AND deleting = 0 AND stopped_at < ?")
        .bind(1, store.now() - policy.olderThan->count())
        .run();
  }
  std::vector<RemovedJob> jobs;
  sqlite::Statement select(db,
                           "SELECT p.id, j.result, j.stopped_at FROM temp.gc_plan p JOIN jobs j ON j.id = p.id "
                           "WHERE j.result IS NOT NULL ORDER BY p.id DESC");
  while (select.step()) {
    jobs.push_back(RemovedJob{select.text(0), statusFromText(select.text(1)), select.optionalInt64(2).value_or(0),
                              {}, 0});
  }
  return jobs;
}

// Finished builds older than the cutoff with no jobs left once the plan
// is carried out.
std::vector<std::string> oldEmptyBuilds(SqliteStore& store, int64_t cutoff, bool remove) {
  auto locked = store.lockDatabase();
  auto& db = locked.db;
  std::vector<std::string> ids;
  if (!remove) {
    sqlite::Statement select(db,
                             "SELECT b.id FROM builds b WHERE b.result IS NOT NULL "
                             "AND COALESCE(b.stopped_at, b.started_at) < ? AND NOT EXISTS (SELECT 1 FROM jobs j "
                             "WHERE j.build_id = b.id AND j.id NOT IN (SELECT id FROM temp.gc_plan)) ORDER BY b.id DESC");
    select.bind(1, cutoff);
    while (select.step()) ids.push_back(select.text(0));
    return ids;
  }
  sqlite::Transaction transaction(db);
  {
    sqlite::Statement erase(db,
                            "DELETE FROM builds WHERE result IS NOT NULL AND COALESCE(stopped_at, started_at) < ? "
                            "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.build_id = builds.id) RETURNING id");
    erase.bind(1, cutoff);
    while (erase.step()) ids.push_back(erase.text(0));
  }
  transaction.commit();
  std::sort(ids.rbegin(), ids.rend());  // RETURNING has no order
  return ids;
}

int countLeftovers(SqliteStore& store) {
  int count = 0;
  {
    auto locked = store.lockDatabase();
    count = static_cast<int>(locked.db.queryInt("SELECT count(*) FROM jobs WHERE deleting != 0"));
  }
  return count + static_cast<int>(leftoverDirs(store).size());
}

}  // namespace

GcReport collectGarbage(Store& store, const RetentionPolicy& policy) {
  auto* sqliteStore = dynamic_cast<SqliteStore*>(&store);
  if (!sqliteStore) throw std::invalid_argument("gc needs a store opened with Store::open");
  if ((policy.keepFailed && *policy.keepFailed < 0) || (policy.keepSucceeded && *policy.keepSucceeded < 0)) {
    throw std::invalid_argument("gc: the number of jobs to keep cannot be negative");
  }
  if (policy.olderThan && policy.olderThan->count() < 0) {
    throw std::invalid_argument("gc: the age limit cannot be negative");
  }
  GcReport report;
  report.dryRun = policy.dryRun;
  store.reapAbandoned();  // a job whose recorder is gone is finished, not running
  if (policy.dryRun) {
    report.leftoversSwept = countLeftovers(*sqliteStore);
  } else {
    report.leftoversSwept = sweepLeftovers(*sqliteStore, report.bytesFreed, report.problems);
  }

  auto planned = plan(*sqliteStore, policy);
  if (policy.dryRun) {
    for (auto& job : planned) {
      if (!isUlid(job.id)) continue;  // its row goes, no file with it
      fs::path dir = store.jobDir(job.id);
      std::error_code error;
      if (!fs::exists(fs::symlink_status(dir, error))) continue;
      job.dir = dir;
      job.bytes = diskUsage(dir);
    }
    report.jobs = std::move(planned);
  } else {
    for (size_t first = 0; first < planned.size(); first += kBatch) {
      std::vector<std::string> ids;
      for (size_t i = first; i < std::min(planned.size(), first + kBatch); ++i) ids.push_back(planned[i].id);
      auto removed = removeJobs(*sqliteStore, ids, report.problems);
      report.jobs.insert(report.jobs.end(), removed.begin(), removed.end());
    }
  }
  for (const auto& job : report.jobs) report.bytesFreed += job.bytes;

  if (policy.olderThan) {
    report.builds = oldEmptyBuilds(*sqliteStore, sqliteStore->now() - policy.olderThan->count(), !policy.dryRun);
  }
  return report;
}

std::optional<std::chrono::milliseconds> parseAge(std::string_view text) {
  int64_t number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end == text.data() || number < 0) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  int64_t scale = 0;
  if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d" || unit.empty()) scale = 86'400'000;
  else if (unit == "w") scale = 7 * 86'400'000LL;
  else return std::nullopt;
  if (number > std::numeric_limits<int64_t>::max() / scale) return std::nullopt;
  return std::chrono::milliseconds(number * scale);
}

}  // namespace jobtape::store
