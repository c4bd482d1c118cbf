// Removing job rows together with their directories, in the crash-safe order
// described in retention.h. Used by gc and Store::deleteJob.
#pragma once

#include <string>
#include <vector>

#include "store/retention.h"
#include "store/sqlite_store.h"

namespace jobtape::store {

// Removes the given finished jobs (running ones are skipped) and returns what
// was removed. Throws SqliteError or std::filesystem::filesystem_error; what
// was marked stays marked for the next gc.
std::vector<RemovedJob> removeJobs(SqliteStore& store, const std::vector<std::string>& ids);

// Finishes removals an interrupted run left: rows still marked deleting and
// jobs/.trash-* directories. Returns how many; adds their bytes to `bytes`.
int sweepLeftovers(SqliteStore& store, uint64_t& bytes);

// Disk usage (allocated blocks) of a directory tree, symlinks not followed;
// 0 when it does not exist.
uint64_t diskUsage(const std::filesystem::path& path);

// Removes a tree even when some of its directories lack write or search
// permission (a job's kept sandbox state may contain such).
void removeTree(const std::filesystem::path& path);

}  // namespace jobtape::store
