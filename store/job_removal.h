// Removing job rows together with their directories, in the crash-safe order
// described in retention.h. Used by gc and Store::deleteJob.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "store/retention.h"
#include "store/sqlite_store.h"

namespace jobtape::store {

// Removes the given finished jobs (running ones are skipped) and returns what
// was removed. Throws SqliteError or std::filesystem::filesystem_error; what
// was marked stays marked for the next gc.
std::vector<RemovedJob> removeJobs(SqliteStore& store, const std::vector<std::string>& ids);

// Finishes removals an interrupted run left: rows still marked deleting,
// jobs/.trash-* directories and orphan job directories (below). Returns how
// many; adds their bytes to `bytes`.
int sweepLeftovers(SqliteStore& store, uint64_t& bytes);

// Directories sweepLeftovers removes: jobs/.trash-* and orphan job
// directories. A recorder creates a job's directory just before its row; one
// that died in between leaves a directory no row names, which an hour later
// cannot be a job about to start.
inline constexpr int64_t kOrphanAgeMs = 3'600'000;
std::vector<std::filesystem::path> leftoverDirs(SqliteStore& store);

// Disk usage (allocated blocks) of a directory tree, symlinks not followed;
// 0 when it does not exist.
uint64_t diskUsage(const std::filesystem::path& path);

// Removes a tree even when some of its directories lack write or search
// permission (a job's kept sandbox state may contain such).
void removeTree(const std::filesystem::path& path);

}  // namespace jobtape::store
