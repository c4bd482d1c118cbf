// The store's home is input, not truth: before a store is opened its home
// and the files jobtape keeps there are checked, as ssh checks a key file.
//
// A home that another user owns, or that group or others can write, could
// have had its database replaced; the next `debug-shell` or `retry` would
// run what that user put there, with the caller's rights. Such a home is
// refused (StoreUnsafeError), for every command. Only the home and its own
// files are checked, not its parents: a home under /tmp (mode 1777) is fine
// when the home itself is private.
//
// What jobtape creates there is private whatever the umask: directories
// 0700, jobtape.db (and so its -wal and -shm, which SQLite creates with the
// database's mode) 0600.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "store/store.h"

namespace jobtape::store {

inline constexpr const char* kDatabaseName = "jobtape.db";
inline constexpr const char* kJobsDirName = "jobs";

// Creates the home (0700; missing parents too) and jobs/ when `create`, makes
// an empty jobtape.db 0600 when there is none, then checks them. Throws
// StoreUnsafeError, or StoreOpenError when a directory cannot be made.
void prepareHome(const std::filesystem::path& home, bool create);

// Checks the home and its files as prepareHome does, creating nothing.
// `euid` is whose store it must be.
void checkHome(const std::filesystem::path& home, uid_t euid);

}  // namespace jobtape::store
