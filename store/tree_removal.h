// Removing and measuring a directory tree that a job made: it may be deeper
// than the open-file limit, hold directories of mode 000 or 0500, files of
// mode 000, symlinks to anywhere, fifos and sockets.
//
// Neither follows a symlink (one is removed as a link), neither crosses
// into a directory reached any other way than through the real directories
// under `path`, and neither holds more than a few descriptors whatever the
// depth: beyond a small window, the directories above are closed and opened
// again, name by name from the top with O_NOFOLLOW, when the walk comes back
// up to them.
#pragma once

#include <cstdint>
#include <filesystem>

namespace jobtape::store {

// Removes `path` (a tree, a file or a link) and returns the bytes its blocks
// took. Directories of the caller's own that lack permissions are opened up
// (0700) first. A missing `path` is 0. Throws std::filesystem::
// filesystem_error for what cannot be removed; what was removed stays so.
uint64_t removeTree(const std::filesystem::path& path);

// Disk usage (allocated blocks) of a tree, symlinks not followed; 0 when it
// does not exist. Best effort: a directory that cannot be read counts for
// its own blocks only. Changes nothing.
uint64_t diskUsage(const std::filesystem::path& path);

}  // namespace jobtape::store
