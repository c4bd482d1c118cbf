// The marker a volatile overlay leaves in its work directory, cleared while
// the overlay is still mounted.
//
// Mounted `volatile` (mount_tree.h), overlayfs makes
//   <work>/work/                      mode 000, made again at every mount
//   <work>/work/incompat/volatile/    mode 000
//   <work>/work/incompat/volatile/dirty
// and refuses to mount the layer again while incompat/ is there: it means
// "this layer was mounted without syncs and may have been cut short". The
// kernel looks at it only when it mounts; a mounted overlay never reads it
// again. The layer is a cache the store hands to the project's next job
// whatever happened to the last one (store/home_layers.h removes a marker
// left over), so nothing is lost by clearing it early.
//
// Why early: on ext4 the two directories and the file cost an inode and a
// block each to free, a few hundred microseconds when the job is over and
// its caller waits. Cleared while the job runs (runner.cc starts this once
// the main process exists, so pid 1 has mounted the tree), the removal
// overlaps with the job's own work.
//
// Every component is opened from the one before it with O_NOFOLLOW and
// opened up to 0700 through its own descriptor before it is entered (an
// unprivileged caller cannot enter a directory of mode 000, even its own),
// and only the exact shape above is removed: anything else there is left
// for the store's removal of the whole tree.
#pragma once

#include <string>
#include <thread>

namespace jobtape::sandbox {

// Removes incompat/ from `workDir`/work (the overlay's work directory,
// RunOptions::homeLayers.work). True when it is gone (or never was); false
// when it could not be removed or held anything unexpected. Never throws.
bool clearVolatileMarker(const std::string& workDir) noexcept;

// clearVolatileMarker on a thread of its own, so that neither the supervisor
// (which answers the job's traced execs) nor the job waits for the removal.
// The destructor waits for it.
class BackgroundMarkerClearing {
 public:
  BackgroundMarkerClearing() = default;
  ~BackgroundMarkerClearing() { wait(); }
  BackgroundMarkerClearing(const BackgroundMarkerClearing&) = delete;
  BackgroundMarkerClearing& operator=(const BackgroundMarkerClearing&) = delete;

  // Once; later calls do nothing. When no thread can be made the marker
  // stays for the store to remove when the job is over.
  void start(std::string workDir) noexcept;
  void wait() noexcept;

 private:
  std::thread thread_;
  bool started_ = false;
};

}  // namespace jobtape::sandbox
