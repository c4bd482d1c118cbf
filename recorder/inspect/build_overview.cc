#include "recorder/inspect/build_overview.h"

#include <algorithm>
#include <set>

namespace jobtape::recorder {

JobCounts countJobs(const std::vector<store::JobRow>& jobs) {
  JobCounts counts;
  for (const auto& job : jobs) {
    ++counts.total;
    switch (job.status) {
      case store::JobStatus::succeeded: ++counts.succeeded; break;
      case store::JobStatus::failed: ++counts.failed; break;
      case store::JobStatus::abandoned: ++counts.abandoned; break;
      case store::JobStatus::running: ++counts.running; break;
    }
  }
  return counts;
}

std::string buildResultName(const store::BuildRow& build) {
  return build.result ? *build.result : std::string("running");
}

namespace {

BuildNode loadNode(store::Store& store, const store::BuildRow& build, int depthLeft,
                   std::set<std::string>& seen) {
  BuildNode node;
  node.build = build;
  node.projects = store.projects(build.id);
  node.jobs = countJobs(store.jobsOfBuild(build.id));
  if (build.stoppedAtMs) node.durationMs = std::max<int64_t>(0, *build.stoppedAtMs - build.startedAtMs);
  seen.insert(build.id);
  auto children = store.childBuilds(build.id);
  std::sort(children.begin(), children.end(),
            [](const auto& a, const auto& b) { return a.startedAtMs != b.startedAtMs ? a.startedAtMs < b.startedAtMs : a.id < b.id; });
  for (const auto& child : children) {
    if (depthLeft <= 0 || seen.count(child.id)) {
      node.truncated = true;
      continue;
    }
    node.nested.push_back(loadNode(store, child, depthLeft - 1, seen));
  }
  return node;
}

}  // namespace

BuildNode loadBuildTree(store::Store& store, const store::BuildRow& build, int maxDepth) {
  std::set<std::string> seen;
  return loadNode(store, build, maxDepth, seen);
}

std::vector<BuildNode> loadRecentBuilds(store::Store& store, int limit) {
  std::vector<BuildNode> result;
  for (const auto& build : store.builds(0)) {
    if (limit > 0 && static_cast<int>(result.size()) >= limit) break;
    if (build.parentJobId && store.job(*build.parentJobId)) continue;  // shown under its parent
    result.push_back(loadBuildTree(store, build));
  }
  return result;
}

BuildIdAbbreviator::BuildIdAbbreviator(std::vector<std::string> allIds, size_t minLength)
    : sorted_(std::move(allIds)), minLength_(minLength) {
  std::sort(sorted_.begin(), sorted_.end());
  sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
}

std::string BuildIdAbbreviator::operator()(const std::string& id) const {
  // Only the neighbours in sorted order can share a longer prefix.
  auto common = [&](const std::string& other) {
    size_t n = 0;
    while (n < id.size() && n < other.size() && id[n] == other[n]) ++n;
    return n;
  };
  size_t needed = 0;
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), id);
  if (it != sorted_.end() && *it == id) {
    if (it + 1 != sorted_.end()) needed = std::max(needed, common(*(it + 1)) + 1);
  } else if (it != sorted_.end()) {
    needed = std::max(needed, common(*it) + 1);
  }
  if (it != sorted_.begin()) needed = std::max(needed, common(*(it - 1)) + 1);
  return id.substr(0, std::min(id.size(), std::max(needed, minLength_)));
}

}  // namespace jobtape::recorder
