// Spare state trees: the state/ a succeeded job leaves as the sandbox made
// it (empty directories standing in for its /tmp and /run) is kept for the
// next job instead of being removed and made again. A directory made and
// removed costs a new inode, a block and, on a file system mounted with
// `discard`, a trim of that block: 0.1 to 0.2 ms each on ext4, several per
// job, against one rename each way.
//
// Layout, spelled here and nowhere else:
//   spare-state/<name>/            a job's state/ (0700), given back
//   spare-state/<name>/tmpfs/<d>/  its tmpfs stand-ins, empty (state_dir.h)
// where <name> is the id of the job that gave it back. At most
// kMaxSpareStates are kept, as many as jobs ever ended at once.
//
// What a job could have changed is the inside of the directories it saw as
// its /tmp and /run: their entries, mode, extended attributes (ACLs) and
// inode flags. A tree is given back only when every one of them is empty,
// the caller's, of the mode it was made with (that of tmpfs/ masked to
// 0755, so the caller's umask counts as for a new one), without extended
// attributes other than a security module's label and with tmpfs/'s inode
// flags; anything else is removed as before (tree_removal.h). So the next job
// gets what a new tree would have given it.
//
// spare-state/ is input, not truth: it is opened from the home with
// O_NOFOLLOW and must be a directory of the caller's, 0700 or stricter;
// only directories are taken from it, and the taken tree must again be a
// directory of the caller's where state/ goes. Failing any of that, the
// job simply gets a new tree.
#pragma once

#include <filesystem>
#include <string>

namespace jobtape::store {

inline constexpr const char* kSpareStateDirName = "spare-state";
inline constexpr int kMaxSpareStates = 64;

// Moves a spare tree to `jobDir`/state. False when none could be taken
// (the caller makes an empty state/ then). Never throws.
bool takeSpareState(const std::filesystem::path& home, const std::filesystem::path& jobDir) noexcept;

// Moves `stateDir` (a job's state/, the job over) to the spares as `name`
// when it is as the sandbox made it (see above) and fewer than
// kMaxSpareStates are kept. False otherwise: the tree is where it was, for
// the caller to remove. Never throws.
bool giveBackState(const std::filesystem::path& home, const std::filesystem::path& stateDir,
                   const std::string& name) noexcept;

}  // namespace jobtape::store
