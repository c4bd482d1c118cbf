// The upper layers of the jobs' $HOME overlays (RunOptions::homeLayers),
// kept per project so that a project's caches stay warm from job to job
// while the host's own home is never written.
//
// Layout, spelled here and nowhere else:
//   homes/<key>/<slot>/upper   what the project's jobs wrote to their home
//   homes/<key>/<slot>/work    overlayfs's work area (same filesystem)
// where <key> is the project's hash (64 lower-case hex digits) and <slot> a
// small number. Overlayfs calls mounting one upper layer twice at a time
// undefined, so each job takes a slot of its own: the first whose directory
// it can flock (LOCK_EX, held for the job's life by the lease), creating the
// next one when all are taken. Slots of a project fill up to the number of
// its jobs that ever ran at once.
//
// homes/ is input, not truth: every component is opened from the home's own
// descriptor with O_NOFOLLOW and must be a directory of the caller's, 0700
// or stricter; a symlink planted there (by a job of an earlier version, or by
// anyone who could write the home) is refused, never followed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/fd_util.h"

namespace jobtape::store {

inline constexpr const char* kHomesDirName = "homes";
inline constexpr const char* kUpperDirName = "upper";
inline constexpr const char* kWorkDirName = "work";
// More jobs of one project at once than this is refused rather than
// spreading a cache over ever more copies.
inline constexpr int kMaxHomeSlots = 64;

// A slot taken for one job: its directories exist, are the caller's and
// stay its own until the lease is destroyed.
// Overlayfs makes work/work of mode 000 at each mount; the lease opens it
// up (0700) when it ends, before the slot is free again, so that the
// caller's own tools (rm -r, find) can walk the store. The overlay is
// volatile (sandbox/mount_tree.h): the runner clears the work/work/incompat/
// marker each mount leaves while the job runs (sandbox/overlay_marker.h);
// the lease removes one still there when it ends, and taking a slot removes
// one a lease could not (its recorder was killed): the kernel would refuse
// to mount the layer again while it is there.
class HomeLayerLease {
 public:
  HomeLayerLease(std::filesystem::path slotDir, sandbox::UniqueFd lock)
      : slotDir_(std::move(slotDir)), lock_(std::move(lock)) {}
  ~HomeLayerLease();
  HomeLayerLease(HomeLayerLease&&) = default;
  HomeLayerLease& operator=(HomeLayerLease&&) = default;
  std::filesystem::path upper() const { return slotDir_ / kUpperDirName; }
  std::filesystem::path work() const { return slotDir_ / kWorkDirName; }
  const std::filesystem::path& slotDir() const { return slotDir_; }

 private:
  std::filesystem::path slotDir_;
  sandbox::UniqueFd lock_;
};

// True for a usable <key>: 64 lower-case hex digits.
bool isHomeLayerKey(const std::string& key);

// Takes the first free slot of project `key` in `home` (whose own safety was
// checked when its store was opened), making what is missing (0700). Throws
// StoreUnsafeError for a component that is a symlink, not a directory, not
// the caller's or open to others; StoreOpenError when nothing can be made
// or every slot is taken.
HomeLayerLease acquireHomeLayer(const std::filesystem::path& home, const std::string& key);

struct HomeLayersRemoval {
  int layers = 0;      // slots removed (or that would be)
  int busy = 0;        // slots left alone: a running job holds them
  uint64_t bytes = 0;  // disk usage of what was removed
  std::vector<std::string> problems;  // what could not be removed, one line each
};

// Removes the kept upper layers of every project, or of project `key` only,
// except those a running job holds. An entry of homes/ that is no directory
// (a planted link) is removed as a link. `dryRun` only measures.
HomeLayersRemoval removeHomeLayers(const std::filesystem::path& home, const std::optional<std::string>& key,
                                   bool dryRun);

}  // namespace jobtape::store
