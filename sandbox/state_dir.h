// The run's kept writable state: host directories that stand in for the
// recipe's tmpfs mounts, so that what a failed job left in its /tmp can be
// looked at and mounted back by debug-shell.
//
// Layout: <stateDir>/tmpfs/<name>, where <name> is the mount's destination
// without its leading '/', with '%' written as %25 and '/' as %2F
// ("/tmp" -> "tmp", "/var/tmp" -> "var%2Ftmp"): one flat directory per mount,
// no nesting between mounts, and a name that reads back to the destination.
// Each directory is created 0755 by and for the caller, whose uid is the
// job's uid inside. A fresh run refuses a non-empty directory (state of
// another job must not leak in); reuseState takes what is there.
#pragma once

#include <string>
#include <vector>

#include "sandbox/recipe.h"
#include "sandbox/runner.h"

namespace jobtape::sandbox {

std::string stateDirName(const std::string& destination);

struct StateDirs {
  std::vector<std::string> tmpfsSources;  // per recipe mount; "" = a real tmpfs
  int error = 0;                          // errno of the first failure
  std::string failedPath;
};

// No stateDir in the options: all tmpfs mounts are real tmpfs, nothing kept.
StateDirs prepareStateDirs(const Recipe& recipe, const RunOptions& options);

}  // namespace jobtape::sandbox
