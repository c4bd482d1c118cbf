// What `build list` and `build show` say about builds: result, projects, job
// counts, duration, and the builds started from inside their jobs (nested
// builds) as a tree. Composed from the store's queries; renders nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <jobtape/inspect.h>

#include "store/store.h"
#include "store/ulid.h"

namespace jobtape::recorder {

using jobtape::JobCounts;  // public (<jobtape/inspect.h>)

JobCounts countJobs(const std::vector<store::JobRow>& jobs);

struct BuildNode {
  store::BuildRow build;
  std::vector<store::ProjectRow> projects;
  JobCounts jobs;
  std::optional<int64_t> durationMs;  // nullopt while the build runs
  std::vector<BuildNode> nested;      // builds started inside its jobs, oldest first
  // The tree was cut here (too deep, or a build reached twice): a damaged
  // store must not make `build show` loop.
  bool truncated = false;
};

// "running" while the build has no result yet.
std::string buildResultName(const store::BuildRow& build);

// Loads one build with its projects, job counts and nested builds down to
// `maxDepth` levels.
BuildNode loadBuildTree(store::Store& store, const store::BuildRow& build, int maxDepth = 16);

// The `limit` most recent top-level builds (<= 0: all), each with its tree.
// A build whose parent job no longer exists (removed by gc) counts as
// top-level, so nothing disappears from the listing.
std::vector<BuildNode> loadRecentBuilds(store::Store& store, int limit);

// Shortest prefix of each build id that no other build id shares, at least
// `minLength` characters, like `job list` does for jobs.
class BuildIdAbbreviator {
 public:
  explicit BuildIdAbbreviator(std::vector<std::string> allIds, size_t minLength = store::kShortIdLength);
  std::string operator()(const std::string& id) const;

 private:
  std::vector<std::string> sorted_;
  size_t minLength_;
};

}  // namespace jobtape::recorder
