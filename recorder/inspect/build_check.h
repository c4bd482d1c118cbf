// `build check --failures N`: a branch lock for CI. Says whether the last N
// finished builds (of one project) all failed.
//
// Builds still running are not counted: the check is typically run from the
// very build it guards. Without a project only top-level builds count (a
// nested build is part of its parent); with a project every build that built
// it counts, nested or not.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace jobtape::recorder {

struct FailureCheck {
  int wanted = 0;                            // N
  std::optional<std::string> project;        // as given
  std::vector<store::BuildRow> considered;   // up to N finished builds, most recent first

  // True only when there were N finished builds and every one failed.
  bool locked() const;
  // One line: "the last 3 builds of /src/app all failed (01JD..., ...)" or why not.
  std::string verdict() const;
};

// True when `project` names this build project: its registry name, its local
// path as written, or the same directory (compared canonically).
bool projectMatches(const store::ProjectRow& row, const std::string& project);

// Throws std::invalid_argument when failures < 1.
FailureCheck checkRecentFailures(store::Store& store, int failures,
                                 const std::optional<std::string>& project);

}  // namespace jobtape::recorder
