// Removing job rows together with their directories, in the crash-safe order
// described in retention.h. Used by gc and Store::deleteJob.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "store/retention.h"
#include "store/sqlite_store.h"
#include "store/tree_removal.h"

namespace jobtape::store {

// Removes the given finished jobs (running ones are skipped) and returns what
// was removed. Throws SqliteError. A directory that cannot be removed does
// not stop the others: it is named in `problems` and left for the next gc
// (its row stays marked, or its trash stays). A damaged row (an id that is
// not a ULID) is deleted without touching any file, and named in `problems`.
std::vector<RemovedJob> removeJobs(SqliteStore& store, const std::vector<std::string>& ids,
                                   std::vector<std::string>& problems);

// Finishes removals an interrupted run left: rows still marked deleting,
// jobs/.trash-* directories and orphan job directories (below). Returns how
// many; adds their bytes to `bytes` and what could not be removed to
// `problems`.
int sweepLeftovers(SqliteStore& store, uint64_t& bytes, std::vector<std::string>& problems);

// Directories sweepLeftovers removes: jobs/.trash-* and orphan job
// directories. A recorder creates a job's directory just before its row; one
// that died in between leaves a directory no row names, which an hour later
// cannot be a job about to start.
inline constexpr int64_t kOrphanAgeMs = 3'600'000;
std::vector<std::filesystem::path> leftoverDirs(SqliteStore& store);

}  // namespace jobtape::store
