// Opening jobtape.db: recognising it, refusing what is not ours, migrating.
#pragma once

#include <filesystem>

#include "store/sqlite.h"

namespace jobtape::store {

// 'JbTp': PRAGMA application_id of every jobtape store.
inline constexpr int32_t kApplicationId = 0x4A625470;
// PRAGMA user_version this jobtape writes and reads.
inline constexpr int kSchemaVersion = 2;

// WAL checkpoints (openStoreDatabase): due for the store's owner at
// kWalFramesDue frames (a handful of jobs: a run of `true` writes about 25),
// made by the committing connection itself at kWalFramesBackstop.
inline constexpr int kWalFramesDue = 100;
inline constexpr int kWalFramesBackstop = 400;

// Opens the database at `path` (created when missing, if allowed), checks that it is a
// jobtape store this version can read, switches it to WAL and migrates it to
// kSchemaVersion. Throws StoreOpenError, without having written to the file,
// for a newer store, a foreign SQLite database, a file that is not SQLite or
// a corrupt one.
sqlite::Database openStoreDatabase(const std::filesystem::path& path, bool createIfMissing = true);

// Applies migration steps 1..`version` to an empty database (tests build old
// stores with it).
void migrateTo(sqlite::Database& db, int version);

}  // namespace jobtape::store
