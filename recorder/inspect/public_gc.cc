// gc of <jobtape/actions.h>: store/retention.h behind the public types.
#include <jobtape/actions.h>

#include "recorder/inspect/home_reader.h"
#include "recorder/inspect/public_records.h"
#include "store/retention.h"

namespace jobtape {

std::optional<std::chrono::milliseconds> parseAge(std::string_view text) { return store::parseAge(text); }

GcReport collectGarbage(Home& home, const GcPolicy& policy) {
  auto* store = recorder::storeHomeOf(home).store();
  if (!store) return GcReport{policy.dryRun, {}, {}, 0, 0, {}};
  return recorder::publicErrors([&] {
    store::RetentionPolicy retention{policy.keepFailed, policy.keepSucceeded, policy.olderThan, policy.dryRun};
    store::GcReport done = store::collectGarbage(*store, retention);
    GcReport report{done.dryRun, {}, done.builds, done.bytesFreed, done.leftoversSwept, done.problems};
    for (const auto& job : done.jobs) {
      report.jobs.push_back({job.id, recorder::toPublic(job.status), job.stoppedAtMs, job.bytes});
    }
    return report;
  });
}

}  // namespace jobtape
