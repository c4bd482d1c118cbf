#include "recorder/inspect/chrome_trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "recorder/inspect/job_json.h"
#include "recorder/inspect/json_text.h"
#include "store/job_dir.h"

namespace jobtape::recorder {

namespace {

constexpr int64_t kNsPerMs = 1'000'000;

void closeSpan(ProcessSpan& span, uint64_t atNs) { span.endNs = std::max(span.startNs, atNs); }

std::string baseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string processName(const ProcessSpan& span) {
  std::string name = !span.argv.empty() && !span.argv.front().empty() ? span.argv.front() : span.executable;
  name = baseName(name);
  return name.empty() ? fmt::format("pid {}", span.pid) : name;
}

std::string jobLabel(const store::JobRow& job) {
  std::string name = !job.name.empty() ? job.name : job.command;
  if (name.size() > 60) name = name.substr(0, 57) + "...";
  return name;
}

// Absolute start and end (ns since the epoch) of a job on the trace.
std::pair<int64_t, int64_t> jobBounds(const TraceJob& job, int64_t nowNs) {
  const auto& row = job.row;
  int64_t start = row.startedAtMs * kNsPerMs;
  if (job.timeline && job.timeline->startedAtUnixNs > 0) start = job.timeline->startedAtUnixNs;
  int64_t end;
  if (job.timeline && job.timeline->finishedNs) {
    end = start + static_cast<int64_t>(*job.timeline->finishedNs);
  } else if (row.stoppedAtMs) {
    end = *row.stoppedAtMs * kNsPerMs;
  } else {
    end = nowNs;
  }
  if (job.timeline) end = std::max(end, start + static_cast<int64_t>(job.timeline->lastEventNs));
  return {start, std::max(start, end)};
}

class Emitter {
 public:
  Emitter(int64_t originNs, int64_t nowNs) : originNs_(originNs), nowNs_(nowNs) {}

  void emitBuild(const TraceBuild& build, std::optional<std::pair<int, int>> parentTrack);
  std::string document() const;

 private:
  double micros(int64_t unixNs) const { return static_cast<double>(unixNs - originNs_) / 1000.0; }
  void metadata(int pid, std::optional<int> tid, std::string_view what, std::string_view key,
                const std::string& name);
  void metadata(int pid, std::optional<int> tid, std::string_view what, std::string_view key, int64_t number);
  JsonWriter& beginSpan(JsonWriter& json, std::string_view category, const std::string& name, int pid, int tid,
                        int64_t startNs, int64_t endNs);
  void emitJob(const TraceJob& job, int pid, int& nextTid, std::map<std::string, int>& trackOfJob);
  void emitProcess(const ProcessSpan& span, int64_t jobStartNs, int pid, int tid);

  int64_t originNs_;
  int64_t nowNs_;
  int nextPid_ = 1;
  int nextFlowId_ = 1;
  std::vector<std::string> events_;
};

void Emitter::metadata(int pid, std::optional<int> tid, std::string_view what, std::string_view key,
                       const std::string& name) {
  JsonWriter json;
  json.beginObject().field("ph", "M").field("name", what).field("pid", pid);
  if (tid) json.field("tid", *tid);
  json.key("args").beginObject().field(key, name).endObject().endObject();
  events_.push_back(json.take());
}

void Emitter::metadata(int pid, std::optional<int> tid, std::string_view what, std::string_view key,
                       int64_t number) {
  JsonWriter json;
  json.beginObject().field("ph", "M").field("name", what).field("pid", pid);
  if (tid) json.field("tid", *tid);
  json.key("args").beginObject().field(key, number).endObject().endObject();
  events_.push_back(json.take());
}

JsonWriter& Emitter::beginSpan(JsonWriter& json, std::string_view category, const std::string& name, int pid,
                               int tid, int64_t startNs, int64_t endNs) {
  json.beginObject().field("ph", "X").field("cat", category).field("name", name);
  json.field("pid", pid).field("tid", tid);
  json.field("ts", micros(startNs)).field("dur", static_cast<double>(std::max<int64_t>(0, endNs - startNs)) / 1000.0);
  return json.key("args").beginObject();
}

void Emitter::emitProcess(const ProcessSpan& span, int64_t jobStartNs, int pid, int tid) {
  JsonWriter json;
  beginSpan(json, "process", processName(span), pid, tid, jobStartNs + static_cast<int64_t>(span.startNs),
            jobStartNs + static_cast<int64_t>(span.endNs));
  json.field("pid", span.pid).field("ppid", span.ppid);
  json.key("argv").beginArray();
  for (const auto& arg : span.argv) json.value(arg);
  json.endArray();
  if (!span.executable.empty()) json.field("executable", span.executable);
  if (!span.cwd.empty()) json.field("cwd", span.cwd);
  if (span.exited && span.statusKnown) {
    json.key("exit_code");
    span.signal ? json.null() : json.value(span.exitCode);
    writeSignalJson(json, span.signal);
  } else if (span.replacedByExec) {
    json.field("ended", "exec");
  } else if (!span.exited) {
    json.field("ended", "not recorded");
  }
  json.endObject().endObject();
  events_.push_back(json.take());
}

void Emitter::emitJob(const TraceJob& job, int pid, int& nextTid, std::map<std::string, int>& trackOfJob) {
  auto [start, end] = jobBounds(job, nowNs_);
  int tid = nextTid++;
  trackOfJob[job.row.id] = tid;
  std::string label = jobLabel(job.row);
  metadata(pid, tid, "thread_name", "name", fmt::format("job {} {}", job.row.id.substr(0, 10), label));
  metadata(pid, tid, "thread_sort_index", "sort_index", tid);
  JsonWriter json;
  beginSpan(json, "job", label, pid, tid, start, end);
  json.field("id", job.row.id).field("status", store::jobStatusName(job.row.status));
  json.field("command", job.row.command).field("recipe_hash", job.row.recipeHash);
  json.field("outcome", job.row.outcome).field("exit_code", job.row.exitCode);
  writeSignalJson(json, job.row.signal);
  if (!job.problem.empty()) json.field("events_error", job.problem);
  if (job.timeline && job.timeline->damage) {
    json.field("events_error", fmt::format("damaged at byte {}: {}", job.timeline->damage->offset,
                                          job.timeline->damage->reason));
  }
  json.endObject().endObject();
  events_.push_back(json.take());
  if (!job.timeline) return;

  const auto& processes = job.timeline->processes;
  std::vector<std::pair<uint64_t, uint64_t>> intervals;
  auto jobLength = static_cast<uint64_t>(end - start);
  for (const auto& p : processes) intervals.emplace_back(p.startNs, std::min(p.endNs, jobLength));
  auto lanes = assignLanes(intervals, {0, jobLength});
  std::vector<int> laneTids = {tid};
  for (size_t i = 0; i < processes.size(); ++i) {
    while (static_cast<size_t>(lanes[i]) >= laneTids.size()) {
      int extra = nextTid++;
      metadata(pid, extra, "thread_name", "name", fmt::format("job {} {} ({})", job.row.id.substr(0, 10), label,
                                                              laneTids.size() + 1));
      metadata(pid, extra, "thread_sort_index", "sort_index", extra);
      laneTids.push_back(extra);
    }
    ProcessSpan clipped = processes[i];
    clipped.endNs = intervals[i].second;
    emitProcess(clipped, start, pid, laneTids[lanes[i]]);
  }
}

void Emitter::emitBuild(const TraceBuild& trace, std::optional<std::pair<int, int>> parentTrack) {
  const auto& build = trace.build;
  int pid = nextPid_++;
  std::string result = build.result.value_or("running");
  metadata(pid, std::nullopt, "process_name", "name",
           fmt::format("build {} ({}{})", build.id.substr(0, 10), result, parentTrack ? ", nested" : ""));
  metadata(pid, std::nullopt, "process_sort_index", "sort_index", pid);
  metadata(pid, 0, "thread_name", "name", "build");
  metadata(pid, 0, "thread_sort_index", "sort_index", 0);
  int64_t start = build.startedAtMs * kNsPerMs;
  int64_t end = build.stoppedAtMs ? *build.stoppedAtMs * kNsPerMs : std::max(start, nowNs_);
  JsonWriter json;
  beginSpan(json, "build", build.commandLine.empty() ? "build " + build.id.substr(0, 10) : build.commandLine, pid, 0,
            start, end);
  json.field("id", build.id).field("result", result).field("cwd", build.cwd).field("host", build.host);
  json.field("retry_of", build.retryOf).field("parent_job_id", build.parentJobId);
  json.key("projects").beginArray();
  for (const auto& p : trace.projects) {
    json.value(!p.localProjectPath.empty() ? p.localProjectPath : p.registryProjectName);
  }
  json.endArray().endObject().endObject();
  events_.push_back(json.take());

  if (parentTrack) {
    int id = nextFlowId_++;
    JsonWriter from, to;
    from.beginObject().field("ph", "s").field("cat", "nested").field("name", "nested build").field("id", id);
    from.field("pid", parentTrack->first).field("tid", parentTrack->second).field("ts", micros(start)).endObject();
    to.beginObject().field("ph", "f").field("bp", "e").field("cat", "nested").field("name", "nested build");
    to.field("id", id).field("pid", pid).field("tid", 0).field("ts", micros(start)).endObject();
    events_.push_back(from.take());
    events_.push_back(to.take());
  }

  int nextTid = 1;
  std::map<std::string, int> trackOfJob;
  for (const auto& job : trace.jobs) emitJob(job, pid, nextTid, trackOfJob);
  for (const auto& child : trace.nested) {
    std::optional<std::pair<int, int>> link;
    if (child.build.parentJobId) {
      auto it = trackOfJob.find(*child.build.parentJobId);
      if (it != trackOfJob.end()) link = std::make_pair(pid, it->second);
    }
    emitBuild(child, link);
  }
}

std::string Emitter::document() const {
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  for (size_t i = 0; i < events_.size(); ++i) {
    out += events_[i];
    out += i + 1 < events_.size() ? ",\n" : "\n";
  }
  out += "]}\n";
  return out;
}

TraceBuild loadTraceNode(store::Store& store, const store::BuildRow& build, int depthLeft) {
  TraceBuild trace;
  trace.build = build;
  trace.projects = store.projects(build.id);
  auto jobs = store.jobsOfBuild(build.id);
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (auto& row : jobs) {
    TraceJob job;
    job.row = std::move(row);
    try {
      auto reader = EventReader::open(store::eventsFileIn(store.jobDirOf(job.row)));
      job.timeline = readJobTimeline(*reader);
    } catch (const std::exception& error) {
      job.problem = error.what();
    }
    trace.jobs.push_back(std::move(job));
  }
  if (depthLeft > 0) {
    auto children = store.childBuilds(build.id);
    std::sort(children.begin(), children.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    for (const auto& child : children) {
      if (child.id != build.id) trace.nested.push_back(loadTraceNode(store, child, depthLeft - 1));
    }
  }
  return trace;
}

}  // namespace

JobTimeline readJobTimeline(EventReader& reader) {
  JobTimeline timeline;
  timeline.startedAtUnixNs = reader.description().startedAtUnixNs;
  std::map<int32_t, size_t> open;  // pid -> index of its running span
  auto note = [&](uint64_t ns) { timeline.lastEventNs = std::max(timeline.lastEventNs, ns); };
  while (auto event = reader.next()) {
    switch (event->kind) {
      case Event::Kind::exec: {
        const auto& record = event->exec.record;
        note(record.elapsedNs);
        if (auto it = open.find(record.pid); it != open.end()) {
          auto& previous = timeline.processes[it->second];
          closeSpan(previous, record.elapsedNs);
          previous.replacedByExec = true;
        }
        ProcessSpan span;
        span.pid = record.pid;
        span.ppid = record.ppid;
        span.argv = record.argv;
        span.executable = record.executable;
        span.cwd = record.cwd;
        span.startNs = record.elapsedNs;
        open[record.pid] = timeline.processes.size();
        timeline.processes.push_back(std::move(span));
        break;
      }
      case Event::Kind::processExit: {
        const auto& record = event->processExit.record;
        note(record.elapsedNs);
        auto it = open.find(record.pid);
        if (it == open.end()) break;  // exit of a process whose exec was not recorded
        auto& span = timeline.processes[it->second];
        closeSpan(span, record.elapsedNs);
        span.exited = true;
        span.statusKnown = record.statusKnown;
        span.exitCode = record.exitCode;
        span.signal = record.signal;
        open.erase(it);
        break;
      }
      case Event::Kind::output: note(event->output.elapsedNs); break;
      case Event::Kind::jobFinished:
        timeline.finishedNs = event->finished.result.wallNs;
        note(event->finished.result.wallNs);
        break;
      default: break;
    }
  }
  timeline.damage = reader.damage();
  uint64_t end = timeline.finishedNs.value_or(timeline.lastEventNs);
  for (const auto& [pid, index] : open) closeSpan(timeline.processes[index], end);
  return timeline;
}

std::vector<int> assignLanes(const std::vector<std::pair<uint64_t, uint64_t>>& intervals,
                             std::pair<uint64_t, uint64_t> outer) {
  std::vector<size_t> order(intervals.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // By start; of two starting together the longer goes first so it can hold the other.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (intervals[a].first != intervals[b].first) return intervals[a].first < intervals[b].first;
    return intervals[a].second > intervals[b].second;
  });
  std::vector<std::vector<uint64_t>> lanes = {{outer.second}};  // per lane: ends of the open spans
  std::vector<int> result(intervals.size(), 0);
  for (size_t index : order) {
    auto [start, end] = intervals[index];
    end = std::max(start, end);
    size_t lane = 0;
    for (; lane < lanes.size(); ++lane) {
      auto& stack = lanes[lane];
      while (!stack.empty() && stack.back() <= start && !(lane == 0 && stack.size() == 1)) stack.pop_back();
      if (stack.empty() || stack.back() >= end) break;
    }
    if (lane == lanes.size()) lanes.emplace_back();
    lanes[lane].push_back(end);
    result[index] = static_cast<int>(lane);
  }
  return result;
}

TraceBuild loadTrace(store::Store& store, const store::BuildRow& build) { return loadTraceNode(store, build, 16); }

std::string chromeTraceJson(const TraceBuild& trace, int64_t nowUnixMs) {
  Emitter emitter(trace.build.startedAtMs * kNsPerMs, nowUnixMs * kNsPerMs);
  emitter.emitBuild(trace, std::nullopt);
  return emitter.document();
}

}  // namespace jobtape::recorder
