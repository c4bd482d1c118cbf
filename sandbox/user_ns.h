// User namespace: who the job is inside, and the id maps that say so.
//
// One uid and one gid are mapped: the caller's effective ids outside, the
// recipe's ids (or the caller's own) inside. setgroups is denied first, as
// the kernel requires before an unprivileged gid_map and so that root
// callers get the same view as everyone else. The supervisor writes the maps
// (nsjail's order: setgroups, gid_map, uid_map) while the child waits on the
// socketpair.
#pragma once

#include <sys/types.h>

#include "sandbox/child_report.h"
#include "sandbox/recipe.h"

namespace jobtape::sandbox {

struct IdMapping {
  uid_t insideUid = 0;
  gid_t insideGid = 0;
  uid_t outsideUid = 0;
  gid_t outsideGid = 0;

  static IdMapping forRecipe(const Recipe& recipe);
};

struct IdMapFailure {
  SetupStep step = SetupStep::none;
  int error = 0;
};

// Supervisor side, between clone and "go". Returns step none on success.
IdMapFailure writeIdMaps(pid_t child, const IdMapping& mapping);

}  // namespace jobtape::sandbox
