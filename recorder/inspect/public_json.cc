// The --json listings of <jobtape/views.h> and <jobtape/actions.h>. The keys
// and their meaning are documented in docs/JSON.md; facts shared with other
// outputs (a job, times) are written by job_json.h.
#include <jobtape/actions.h>
#include <jobtape/views.h>

#include <algorithm>
#include <system_error>

#include "recorder/inspect/home_reader.h"
#include "recorder/inspect/job_json.h"
#include "recorder/inspect/json_text.h"
#include "recorder/inspect/public_records.h"
#include "store/job_dir.h"

namespace jobtape {

namespace fs = std::filesystem;
using recorder::JsonWriter;

namespace {

recorder::JobPaths pathsOf(store::Store& store, const store::JobRow& row) {
  fs::path dir = store.jobDirOf(row);
  recorder::JobPaths paths{store.shortestUniquePrefix(row.id), store::eventsFileIn(dir).string(), std::nullopt};
  std::error_code ec;
  if (fs::is_directory(store::stateDirIn(dir), ec)) paths.stateDir = store::stateDirIn(dir).string();
  return paths;
}

// `store` may be null only without rows.
void writeJobs(JsonWriter& json, store::Store* store, const std::vector<store::JobRow>& rows) {
  json.beginArray();
  for (const auto& row : rows) {
    json.beginObject();
    recorder::writeJobRowJson(json, row, pathsOf(*store, row));
    json.endObject();
  }
  json.endArray();
}

void writeCounts(JsonWriter& json, const JobCounts& counts) {
  json.key("job_counts").beginObject();
  json.field("total", counts.total).field("succeeded", counts.succeeded).field("failed", counts.failed);
  json.field("abandoned", counts.abandoned).field("running", counts.running);
  json.endObject();
}

// `withJobs` (build show): each build also lists its jobs.
void writeBuild(JsonWriter& json, const BuildTree& node, store::Store* withJobs) {
  const auto& b = node.build;
  json.beginObject();
  json.field("id", b.id).field("short_id", b.shortId).field("result", buildResultName(b));
  recorder::writeTimeJson(json, "started_at", b.startedAtMs);
  recorder::writeTimeJson(json, "stopped_at", b.stoppedAtMs);
  json.field("duration_ms", node.durationMs);
  json.field("command_line", b.commandLine).field("cwd", b.cwd).field("host", b.host);
  json.field("parent_job_id", b.parentJobId).field("retry_of", b.retryOf);
  json.key("projects").beginArray();
  for (const auto& p : node.projects) {
    json.beginObject().field("id", p.id).field("project_hash", p.projectHash);
    json.field("local_project_path", p.localProjectPath).field("registry_project_name", p.registryProjectName);
    json.endObject();
  }
  json.endArray();
  writeCounts(json, node.jobs);
  if (withJobs) {
    auto jobs = withJobs->jobsOfBuild(b.id);
    std::sort(jobs.begin(), jobs.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
    json.key("jobs");
    writeJobs(json, withJobs, jobs);
  }
  json.key("nested").beginArray();
  for (const auto& child : node.nested) writeBuild(json, child, withJobs);
  json.endArray();
  json.field("nested_truncated", node.truncated);
  json.endObject();
}

}  // namespace

std::string jobListJson(Home& home, const std::vector<JobRecord>& jobs) {
  auto* store = recorder::storeHomeOf(home).store();
  return recorder::publicErrors([&] {
    std::vector<store::JobRow> rows;
    for (const auto& job : jobs) rows.push_back(recorder::toStore(job));
    if (!rows.empty() && !store) throw Error(Error::Kind::invalidArgument, "jobs of a home that has no store");
    JsonWriter json(true);
    writeJobs(json, store, rows);
    return json.take();
  });
}

std::string buildListJson(const std::vector<BuildTree>& builds) {
  JsonWriter json(true);
  json.beginArray();
  for (const auto& build : builds) writeBuild(json, build, nullptr);
  json.endArray();
  return json.take();
}

std::string buildShowJson(Home& home, const BuildTree& build) {
  auto* store = recorder::storeHomeOf(home).store();
  return recorder::publicErrors([&] {
    JsonWriter json(true);
    writeBuild(json, build, store);
    return json.take();
  });
}

std::string buildCheckJson(const FailureCheck& check) {
  JsonWriter json(true);
  json.beginObject().field("failures", check.wanted).field("project", check.project);
  json.field("locked", check.locked).field("verdict", check.verdict);
  json.key("builds").beginArray();
  for (const auto& b : check.considered) {
    json.beginObject().field("id", b.id).field("short_id", b.shortId).field("result", buildResultName(b));
    recorder::writeTimeJson(json, "started_at", b.startedAtMs);
    recorder::writeTimeJson(json, "stopped_at", b.stoppedAtMs);
    json.field("command_line", b.commandLine).endObject();
  }
  json.endArray().endObject();
  return json.take();
}

std::string gcReportJson(const GcReport& report) {
  JsonWriter json(true);
  json.beginObject().field("dry_run", report.dryRun);
  json.key("jobs").beginArray();
  for (const auto& job : report.jobs) {
    json.beginObject().field("id", job.id).field("status", jobStatusName(job.status));
    recorder::writeTimeJson(json, "stopped_at", job.stoppedAtMs);
    json.field("bytes", job.bytes).endObject();
  }
  json.endArray().key("builds").beginArray();
  for (const auto& build : report.builds) json.value(build);
  json.endArray();
  json.field("bytes_freed", report.bytesFreed).field("leftovers_swept", report.leftoversSwept);
  json.field("home_layers_removed", report.homeLayersRemoved).field("home_layers_in_use", report.homeLayersInUse);
  json.field("home_bytes_freed", report.homeBytesFreed);
  json.endObject();
  return json.take();
}

}  // namespace jobtape
