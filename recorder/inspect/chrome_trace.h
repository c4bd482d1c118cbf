// `build trace`: a build as Chrome trace-event JSON, the format Perfetto and
// chrome://tracing open.
//
// Layout: each build (the one asked for and every nested build) is a trace
// "process" (pid 1, 2, ...) named after the build; its first track (tid 0)
// holds the build's span. Each job gets a track of its own with the job's
// span, and the processes its events file says it exec'd are spans under it.
// Slices on one track must nest, so processes that overlap without nesting
// (parallel compilers under make -j) go to extra tracks of the same job
// ("job cc (2)"). A flow arrow leads from a job to each build started inside
// it. Times are microseconds since the top build started.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "recorder/events/event_reader.h"
#include "store/store.h"

namespace jobtape::recorder {

// One program image a process of the job ran: from its exec (or spawn) to
// its exit or to the next exec in the same pid.
struct ProcessSpan {
  int32_t pid = 0;   // inside the job's pid namespace
  int32_t ppid = 0;
  std::vector<std::string> argv;
  std::string executable;
  std::string cwd;
  uint64_t startNs = 0;  // since the job started
  uint64_t endNs = 0;
  bool exited = false;          // its exit was recorded
  bool replacedByExec = false;  // it ended because the pid exec'd again
  bool statusKnown = false;
  int exitCode = -1;
  int signal = 0;
};

// What a job's events file says about its time line.
struct JobTimeline {
  int64_t startedAtUnixNs = 0;
  std::optional<uint64_t> finishedNs;  // the jobFinished event's elapsed time
  uint64_t lastEventNs = 0;
  std::vector<ProcessSpan> processes;  // by start time
  std::optional<Damage> damage;        // reading stopped early here
};

// Reads every event after the description. Spans still open at the end
// close at the job's finish (or its last event).
JobTimeline readJobTimeline(EventReader& reader);

// Gives each interval (start, end) a lane such that intervals on one lane
// are disjoint or nested, using as few lanes as a greedy pass by start time
// finds. Lane 0 already holds `outer` (the job's own span).
std::vector<int> assignLanes(const std::vector<std::pair<uint64_t, uint64_t>>& intervals,
                             std::pair<uint64_t, uint64_t> outer);

struct TraceJob {
  store::JobRow row;
  std::optional<JobTimeline> timeline;
  std::string problem;  // why the events file could not be used, if it could not
};

struct TraceBuild {
  store::BuildRow build;
  std::vector<store::ProjectRow> projects;
  std::vector<TraceJob> jobs;  // by start time
  std::vector<TraceBuild> nested;
};

// Loads `build`, its jobs with their events files, and its nested builds.
TraceBuild loadTrace(store::Store& store, const store::BuildRow& build);

// The JSON document. Running builds and jobs end at `nowUnixMs`.
std::string chromeTraceJson(const TraceBuild& trace, int64_t nowUnixMs);

}  // namespace jobtape::recorder
