// The build half of StoreHome: build selectors, trees, checks, traces and
// history, from build_overview, build_check, chrome_trace and history.
#include <algorithm>

#include "recorder/inspect/build_check.h"
#include "recorder/inspect/build_overview.h"
#include "recorder/inspect/chrome_trace.h"
#include "recorder/inspect/history.h"
#include "recorder/inspect/home_reader.h"
#include "recorder/inspect/public_records.h"
#include "store/selector.h"

namespace jobtape {

std::string buildResultName(const BuildRecord& build) { return recorder::buildResultName(recorder::toStore(build)); }

}  // namespace jobtape

namespace jobtape::recorder {

namespace {

BuildIdAbbreviator abbreviatorFor(store::Store& store) {
  std::vector<std::string> ids;
  for (const auto& build : store.builds(0)) ids.push_back(build.id);
  return BuildIdAbbreviator(std::move(ids));
}

BuildRecord withShortId(const store::BuildRow& row, const BuildIdAbbreviator& abbreviate) {
  BuildRecord record = toPublic(row);
  record.shortId = abbreviate(row.id);
  return record;
}

BuildTree toPublic(const BuildNode& node, const BuildIdAbbreviator& abbreviate) {
  BuildTree tree;
  tree.build = withShortId(node.build, abbreviate);
  tree.projects = recorder::toPublic(node.projects);
  tree.jobs = node.jobs;
  tree.durationMs = node.durationMs;
  for (const auto& child : node.nested) tree.nested.push_back(toPublic(child, abbreviate));
  tree.truncated = node.truncated;
  return tree;
}

}  // namespace

BuildRecord StoreHome::selectBuild(const std::optional<std::string>& selector) {
  if (!store_) throw SelectorError("no builds recorded yet", {});
  return publicErrors([&] {
    auto row = store::resolveBuildSelector(*store_, selector);
    return withShortId(row, abbreviatorFor(*store_));
  });
}

std::vector<BuildTree> StoreHome::builds(int limit) {
  if (!store_) return {};
  return publicErrors([&] {
    auto abbreviate = abbreviatorFor(*store_);
    std::vector<BuildTree> trees;
    for (const auto& node : loadRecentBuilds(*store_, limit)) trees.push_back(toPublic(node, abbreviate));
    return trees;
  });
}

BuildTree StoreHome::buildTree(const BuildRecord& build) {
  return publicErrors([&] {
    auto& store = requireStore();
    return toPublic(loadBuildTree(store, toStore(build)), abbreviatorFor(store));
  });
}

JobListing StoreHome::jobsOfBuild(const std::string& buildId) {
  if (!store_) return {};
  return publicErrors([&] {
    auto rows = store_->jobsOfBuild(buildId);
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return withoutDamaged(std::move(rows));
  });
}

jobtape::FailureCheck StoreHome::checkFailures(int failures, const std::optional<std::string>& project) {
  return publicErrors([&] {
    recorder::FailureCheck check;
    check.wanted = failures;
    check.project = project;
    if (failures < 1) throw Error(Error::Kind::invalidArgument, "the number of failures must be at least 1");
    if (store_) check = checkRecentFailures(*store_, failures, project);
    jobtape::FailureCheck result{check.wanted, check.project, {}, check.locked(), check.verdict()};
    if (!check.considered.empty()) {
      auto abbreviate = abbreviatorFor(*store_);
      for (const auto& build : check.considered) result.considered.push_back(withShortId(build, abbreviate));
    }
    return result;
  });
}

BuildTrace StoreHome::trace(const BuildRecord& build, int64_t nowUnixMs) {
  return publicErrors([&] {
    auto trace = loadTrace(requireStore(), toStore(build));
    return BuildTrace{chromeTraceJson(trace, nowUnixMs), trace.jobs.size()};
  });
}

std::vector<DayStats> StoreHome::history(std::optional<int64_t> sinceUnixMs) {
  if (!store_) return {};
  return publicErrors([&] {
    store::JobFilter jobs;
    jobs.limit = 0;
    jobs.startedSinceMs = sinceUnixMs;
    auto builds = sinceUnixMs ? store_->buildsStartedSince(*sinceUnixMs) : store_->builds(0);
    return aggregateHistory(builds, store_->jobs(jobs), sinceUnixMs);
  });
}

}  // namespace jobtape::recorder
