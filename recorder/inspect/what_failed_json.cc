#include "recorder/inspect/what_failed_json.h"

#include "recorder/inspect/job_json.h"

namespace jobtape::recorder {

namespace {

uint64_t ns(std::chrono::nanoseconds value) { return static_cast<uint64_t>(value.count()); }

void writeProcess(JsonWriter& json, const RecordedProcess& process) {
  json.beginObject().field("pid", process.pid).field("ppid", process.ppid);
  json.key("argv").beginArray();
  for (const auto& arg : process.argv) json.value(arg);
  json.endArray();
  json.field("executable", process.executable).field("cwd", process.cwd).field("start_ns", ns(process.start));
  json.key("duration_ns");
  process.duration ? json.value(ns(*process.duration)) : json.null();
  json.field("exit_code", process.exitCode);
  writeSignalJson(json, process.statusKnown ? std::optional<int>(process.signal) : std::nullopt);
  json.field("role", process.role).endObject();
}

void writeProcesses(JsonWriter& json, const std::vector<RecordedProcess>& processes) {
  json.beginArray();
  for (const auto& process : processes) writeProcess(json, process);
  json.endArray();
}

void writeWindow(JsonWriter& json, const OutputWindow& window) {
  json.beginObject().field("begin_ns", ns(window.begin));
  json.key("end_ns");
  window.end ? json.value(ns(*window.end)) : json.null();
  json.field("total_lines", window.totalLines)
      .field("omitted_lines", window.omitted)
      .field("omitted_at", static_cast<uint64_t>(window.omittedAt));
  json.key("lines").beginArray();
  for (const auto& line : window.lines) {
    json.beginObject()
        .field("stream", line.stream == OutputStream::stdout_ ? "stdout" : "stderr")
        .field("elapsed_ns", ns(line.at))
        .field("text", line.text)
        .field("alone", line.alone)
        .field("by_name", line.byName)
        .field("cut", line.cut)
        .endObject();
  }
  json.endArray().endObject();
}

}  // namespace

void writeFailedProcessesJson(JsonWriter& json, const WhatFailed& failed) {
  json.beginArray();
  for (const auto& process : failed.processes) {
    json.beginObject().field("command_line", process.commandLine);
    json.key("process");
    writeProcess(json, process.process);
    json.key("chain");
    writeProcesses(json, process.chain);
    json.key("failed_helpers");
    writeProcesses(json, process.failedHelpers);
    json.key("during");
    writeWindow(json, process.during);
    json.key("after");
    writeWindow(json, process.after);
    json.field("attributed", process.attributed)
        .field("attributed_by_name", process.attributedByName)
        .field("concurrent_processes", static_cast<uint64_t>(process.concurrentProcesses))
        .endObject();
  }
  json.endArray();
}

}  // namespace jobtape::recorder
