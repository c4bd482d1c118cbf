// gc of <jobtape/actions.h>: store/retention.h behind the public types.
#include <jobtape/actions.h>

#include "recorder/absolute_directory.h"
#include "recorder/home_layer.h"
#include "recorder/inspect/home_reader.h"
#include "recorder/inspect/public_records.h"
#include "store/home_layers.h"
#include "store/retention.h"

namespace jobtape {

std::optional<std::chrono::milliseconds> parseAge(std::string_view text) { return store::parseAge(text); }

namespace {

// The key a project's layers are kept under, from its directory as a build
// gives it (Build::addProject hashes the absolute, normalised path).
std::string projectKeyOf(const std::filesystem::path& dir) {
  return recorder::homeLayerKey(recorder::defaultProjectHash(recorder::absoluteDirectory(dir).string()));
}

void dropHomeLayers(const std::filesystem::path& home, const GcPolicy& policy, GcReport& report) {
  std::optional<std::string> key;
  if (policy.homesOfProject) key = projectKeyOf(*policy.homesOfProject);
  store::HomeLayersRemoval removal = store::removeHomeLayers(home, key, policy.dryRun);
  report.homeLayersRemoved = removal.layers;
  report.homeLayersInUse = removal.busy;
  report.homeBytesFreed = removal.bytes;
  for (auto& problem : removal.problems) report.problems.push_back(std::move(problem));
}

}  // namespace

GcReport collectGarbage(Home& home, const GcPolicy& policy) {
  auto& storeHome = recorder::storeHomeOf(home);
  auto* store = storeHome.store();
  return recorder::publicErrors([&] {
    GcReport report{policy.dryRun, {}, {}, 0, 0, {}};
    if (store) {
      store::RetentionPolicy retention{policy.keepFailed, policy.keepSucceeded, policy.olderThan, policy.dryRun};
      store::GcReport done = store::collectGarbage(*store, retention);
      report = GcReport{done.dryRun, {}, done.builds, done.bytesFreed, done.leftoversSwept, done.problems};
      for (const auto& job : done.jobs) {
        report.jobs.push_back({job.id, recorder::toPublic(job.status), job.stoppedAtMs, job.bytes});
      }
    }
    if (policy.homes) dropHomeLayers(storeHome.path(), policy, report);
    return report;
  });
}

}  // namespace jobtape
