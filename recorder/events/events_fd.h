// The few file-descriptor operations the events file needs, each turning
// errno into a std::system_error that names the path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <utility>

#include "sandbox/fd_util.h"

namespace jobtape::recorder {

// The library's one fd owner (sandbox/fd_util.h).
using sandbox::UniqueFd;

// Closes `fd` now and reports a failing close(2) (on some file systems the
// last write error only shows up there). Throws std::system_error.
void closeReporting(UniqueFd& fd, const std::filesystem::path& path);

// Creates `path` for writing; fails if it exists (O_EXCL), close-on-exec.
UniqueFd createExclusive(const std::filesystem::path& path);

// write(2) until every byte is written (EINTR and short writes retried).
void writeAll(int fd, const char* data, size_t size, const std::filesystem::path& path);

// fdatasync(2) of the file, then fsync(2) of its directory so that a newly
// created file's name survives a power loss too.
void syncFileAndDirectory(int fd, const std::filesystem::path& path);

}  // namespace jobtape::recorder
