// Retention: which finished jobs `jobtape gc` removes, and removing them
// together with their directories.
//
// Each limit given is an upper bound, and a job goes when any of them says
// so: beyond the `keepFailed` most recent failed (or abandoned) jobs, beyond
// the `keepSucceeded` most recent succeeded jobs, or stopped longer than
// `olderThan` ago. Running jobs are never touched. With `olderThan`, finished
// builds older than that which have no jobs left are removed too.
//
// Removal is crash-safe: rows are first marked `deleting` (readers no longer
// see them), then each job directory is renamed to jobs/.trash-<id>, then the
// rows are deleted, then the trash is removed. A crash at any point leaves
// either no row or a row marked `deleting`, never an unmarked row whose
// directory is gone; the next gc finishes what was left (leftoversSwept).
// Also swept there: job directories no row names, an hour after their id's
// time (a recorder that died between creating one and writing its row).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace jobtape::store {

struct RetentionPolicy {
  std::optional<int64_t> keepFailed;     // failed and abandoned jobs
  std::optional<int64_t> keepSucceeded;
  std::optional<std::chrono::milliseconds> olderThan;
  bool dryRun = false;  // report what would go, change nothing
};

struct RemovedJob {
  std::string id;
  JobStatus status = JobStatus::failed;
  int64_t stoppedAtMs = 0;
  std::filesystem::path dir;  // home/jobs/<id>; empty when the job had none
  uint64_t bytes = 0;         // disk usage of dir (allocated blocks)
};

struct GcReport {
  bool dryRun = false;
  std::vector<RemovedJob> jobs;     // most recent first
  std::vector<std::string> builds;  // build ids removed
  uint64_t bytesFreed = 0;          // sum of the jobs' bytes (+ swept trash)
  int leftoversSwept = 0;           // removals an interrupted gc had left half done
  // What gc could not do and went on without: a tree it could not remove
  // (left for the next gc), a damaged row (removed without touching a file).
  std::vector<std::string> problems;
};

// Applies `policy` to the store. Throws SqliteError, std::invalid_argument
// for a negative keep count. A directory that cannot be removed is named in
// report.problems (its row stays marked, and the next gc retries); the
// sweep goes on with the others.
GcReport collectGarbage(Store& store, const RetentionPolicy& policy);

// "90s", "15m", "12h", "30d", "2w" (a bare number is days). nullopt when the
// text is not such a duration.
std::optional<std::chrono::milliseconds> parseAge(std::string_view text);

}  // namespace jobtape::store
