// The sandbox's filesystem view: a new root built from the recipe's mounts.
//
// Planned in the supervisor (all strings and slots allocated there), applied
// in the sandbox's pid 1 with system calls only. The order of work:
//
//  1. every mount of the host the recipe names is cloned first (open_tree
//     OPEN_TREE_CLONE|AT_RECURSIVE) while the host tree is still intact, and
//     made nosuid,nodev (and read-only for roBind) with mount_setattr on the
//     *detached* clone, so a bind is never writable, not even for a moment,
//     and flags the kernel locked stay as they were; sources are host paths
//     and resolve like on the host;
//  2. an empty tmpfs becomes the new root (or the recipe's first mount if it
//     targets "/");
//  3. the clones are attached in recipe order; mount points are created and
//     resolved with openat2(RESOLVE_IN_ROOT), so a symlink on the destination
//     side never leads out of the new root (GHSA-pxhw-h44j-8pfx), and a
//     missing mount point below a read-only bind fails with EROFS rather than
//     being created on the host;
//  4. the sandbox's own /proc (fresh, of the new pid namespace; sys, irq,
//     bus and sysrq-trigger read-only) and /dev (tmpfs with null zero full
//     random urandom tty bound from the host, a new devpts instance, shm and
//     the fd symlinks) come after the recipe mounts outside them and before
//     those inside them (e.g. a bind of /dev/kvm);
//  5. pivot_root(".", ".") and umount2(".", MNT_DETACH): the old root is gone,
//     not hidden below a directory; the empty root tmpfs is made read-only.
//
// Host directories the job must not see (RunOptions::hiddenPaths: the
// jobtape home) get an empty read-only tmpfs over every place a bind of the
// recipe shows them (a bind of a part of one: over the whole bind), attached
// right after that bind; a place that does not exist inside (covered by a
// later mount) needs none.
//
// The recipe's homeOverlay mount is an overlayfs (RunOptions::homeLayers):
// the host directory as its one lower layer, read-only as it is, under an
// upper and work directory of the caller's. It is made in the sandbox's user
// namespace (unprivileged overlayfs: Linux 5.11+) with `userxattr`, which
// the kernel does not set by itself: without it the trusted.* attributes
// cannot be written there and removing a directory of the lower layer fails
// with EIO. It is a mount of the recipe like a bind, so hidden directories
// under its source are covered again right after it. An upper layer inside
// the lower one (the store under the home) is accepted by the kernel; the
// store is hidden anyway. Without homeLayers it is a read-only bind.
// It is `volatile` (Linux 5.10+; without it where the kernel has none):
// otherwise the unmount at the sandbox's end runs syncfs on the upper
// layer's file system, a writeback of every dirty page of the whole file
// system the store is on, at the end of every job. The layer is then as
// durable as the project directory the job writes through a bind: what the
// page cache gives. The kernel leaves work/work/incompat/volatile behind and
// refuses the next mount while it is there: the runner clears it while the
// job runs (overlay_marker.h), and the store removes one left over when it
// hands the layer to the next job (store/home_layers.h).
//
// Recipe tmpfs mounts become read-write binds of directories under the run's
// state directory when there is one (see state_dir.h), so their content can be
// kept. A mount that targets "/" must be the first one.
#pragma once

#include <string>
#include <vector>

#include "sandbox/child_report.h"
#include "sandbox/recipe.h"
#include "sandbox/runner.h"

namespace jobtape::sandbox {

// Where the bind `mountIndex` of a recipe shows host directory `hostPath`:
// at `inside`, all of it (`whole`), or only a part of it (the bind's source
// lies below hostPath; then `inside` is the bind's destination). Sources and
// hostPath are compared after resolving symlinks on the host.
struct Exposure {
  size_t mountIndex = 0;
  std::string inside;
  bool whole = true;
  bool writable = false;
};
std::vector<Exposure> exposuresOf(const Recipe& recipe, const std::string& hostPath);

class MountPlan {
 public:
  friend class InitPlanCodec;  // init_plan.cc: across the exec of pid 1

  // `tmpfsSources[i]`: the host directory standing in for recipe mount i when
  // it is a tmpfs (empty: a real tmpfs). Same length as recipe.mounts or empty.
  // `hidden`: host directories to cover wherever the recipe's binds show them.
  // `homeLayers`: the upper and work directories of the homeOverlay mount.
  static MountPlan build(const Recipe& recipe, const std::vector<std::string>& tmpfsSources,
                         const std::vector<std::string>& hidden = {}, const HomeLayers& homeLayers = {});

  // Child side (pid 1 of the new pid and mount namespaces, before the main
  // process is forked). Async-signal-safe; uses the plan's preallocated slots.
  StageError apply() const noexcept;

  struct Op {
    enum class Kind { bind, tmpfs, proc, dev, hide, overlay };
    Kind kind = Kind::bind;
    const char* source = nullptr;       // host path (bind; overlay: the lower layer)
    const char* upper = nullptr;        // overlay: host directories of the upper layer
    const char* work = nullptr;         //   and of overlayfs's work area
    const char* destination = nullptr;  // absolute path inside
    bool readOnly = false;
    int recipeIndex = -1;  // for error reports; -1 = the sandbox's own mount
  };
  const std::vector<Op>& ops() const { return ops_; }

  MountPlan() = default;
  MountPlan(MountPlan&&) = default;
  MountPlan& operator=(MountPlan&&) = default;

 private:
  void allocateSlots();  // fds_, once ops_ is complete
  StageError captureSources() const noexcept;
  StageError attach(int rootFd, size_t first) const noexcept;
  StageError finishDev(int devFd) const noexcept;

  std::vector<std::string> strings_;  // owns what ops_ points to
  std::vector<Op> ops_;
  mutable std::vector<int> fds_;  // one detached mount per op, filled in the child
};

}  // namespace jobtape::sandbox
