#include "recorder/inspect/job_json.h"

namespace jobtape::recorder {

void writeTimeJson(JsonWriter& json, std::string_view key, std::optional<int64_t> unixMs) {
  json.key(key);
  unixMs ? json.value(isoTimestampMs(*unixMs)) : json.null();
}

void writeDurationJson(JsonWriter& json, std::optional<int64_t> startedMs, std::optional<int64_t> stoppedMs) {
  json.key("duration_ms");
  startedMs && stoppedMs ? json.value(*stoppedMs - *startedMs) : json.null();
}

void writeSignalJson(JsonWriter& json, std::optional<int> signal) {
  json.key("signal");
  signal && *signal != 0 ? json.value(*signal) : json.null();
}

void writeResourceUsageJson(JsonWriter& json, const sandbox::ResourceUsage& usage) {
  json.beginObject()
      .field("user_cpu_ns", usage.userCpu.count())
      .field("sys_cpu_ns", usage.systemCpu.count())
      .field("max_rss_bytes", usage.maxRssBytes)
      .field("minor_faults", usage.minorFaults)
      .field("major_faults", usage.majorFaults)
      .field("in_blocks", usage.inBlocks)
      .field("out_blocks", usage.outBlocks)
      .field("voluntary_switches", usage.voluntarySwitches)
      .field("involuntary_switches", usage.involuntarySwitches)
      .endObject();
}

void writeJobRowJson(JsonWriter& json, const store::JobRow& row, const JobPaths& paths) {
  json.field("id", row.id)
      .field("short_id", paths.shortId)
      .field("status", store::jobStatusName(row.status))
      .field("build_id", row.buildId)
      .field("project", row.projectPath)
      .field("name", row.name)
      .field("command", row.command);
  writeTimeJson(json, "started_at", row.startedAtMs);
  writeTimeJson(json, "stopped_at", row.stoppedAtMs);
  writeDurationJson(json, row.startedAtMs, row.stoppedAtMs);
  json.field("exit_code", row.exitCode);
  writeSignalJson(json, row.signal);
  json.field("outcome", row.outcome)
      .field("recipe_hash", row.recipeHash)
      .field("pid", static_cast<int64_t>(row.pid))
      .field("events_file", paths.eventsFile)
      .field("state_kept", row.stateKept)
      .field("state_dir", paths.stateDir);
}

}  // namespace jobtape::recorder
