// The JSON form of facts that several --json outputs print (a job in `job
// list`, `job show` and `build show`; times; signals; resource usage), so
// each fact has one name and one type everywhere. docs/JSON.md documents
// the shapes; tests/cli_view/json_shapes_test checks the output against it.
//
// Rules: keys are snake_case, named after the store's columns; times of day
// are ISO 8601 UTC strings with milliseconds (`*_at`); durations are integer
// milliseconds (`*_ms`); offsets inside a job are integer nanoseconds
// (`*_ns`); a fact not known (yet) is null, never 0 or "".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "recorder/inspect/json_text.h"
#include "sandbox/run_result.h"
#include "store/store.h"

namespace jobtape::recorder {

// `key`: the ISO 8601 time, or null.
void writeTimeJson(JsonWriter& json, std::string_view key, std::optional<int64_t> unixMs);
// `duration_ms`: stopped - started, or null while running.
void writeDurationJson(JsonWriter& json, std::optional<int64_t> startedMs, std::optional<int64_t> stoppedMs);
// `signal`: the signal number, or null when no signal ended it (0 included).
void writeSignalJson(JsonWriter& json, std::optional<int> signal);
void writeResourceUsageJson(JsonWriter& json, const sandbox::ResourceUsage& usage);

// Where a job's files are, as the listing found them.
struct JobPaths {
  std::string shortId;
  std::string eventsFile;
  std::optional<std::string> stateDir;  // only when the kept state exists
};

// The members of a job object in `job list` and `build show` (no braces).
void writeJobRowJson(JsonWriter& json, const store::JobRow& row, const JobPaths& paths);

}  // namespace jobtape::recorder
