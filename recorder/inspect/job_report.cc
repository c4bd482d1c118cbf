#include "recorder/inspect/job_report.h"

#include <cstring>
#include <fmt/format.h>

#include "recorder/inspect/job_json.h"
#include "recorder/inspect/json_text.h"
#include "recorder/inspect/log_render.h"
#include "recorder/inspect/process_tree_text.h"
#include "recorder/inspect/what_failed_json.h"
#include "recorder/inspect/what_failed_reading.h"
#include "recorder/job_command_line.h"
#include "recorder/secret_env.h"

namespace jobtape::recorder {

namespace {

constexpr int64_t kNsPerMs = 1'000'000;
// The label column of `job show`'s lines.
constexpr size_t kLabelWidth = 10;
// What failed, at the top of `job show`: more than at the end of a run.
constexpr size_t kWhatFailedLines = 40;

std::string signalText(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  if (!abbrev) return fmt::format("signal {}", signal);
  return fmt::format("signal {} (SIG{})", signal, abbrev);
}

std::string errnoText(int error) {
  const char* name = strerrorname_np(error);
  const char* description = strerrordesc_np(error);
  if (!name || !description) return fmt::format("errno {}", error);
  return fmt::format("{} ({})", name, description);
}

// The run result as far as it is known: the events file's is complete, the
// row's has codes and the outcome's name only.
std::optional<sandbox::RunResult> knownResult(const JobReport& report) {
  if (report.events && report.events->finished) return report.events->finished->result;
  if (!report.row || report.row->status == store::JobStatus::running) return std::nullopt;
  auto outcome = outcomeNamed(report.row->outcome);
  if (!outcome) return std::nullopt;
  sandbox::RunResult result;
  result.outcome = *outcome;
  result.exitCode = report.row->exitCode.value_or(-1);
  result.signal = report.row->signal.value_or(0);
  return result;
}

std::string resultText(const sandbox::RunResult& result, const std::optional<sandbox::Recipe>& recipe) {
  using sandbox::Outcome;
  switch (result.outcome) {
    case Outcome::exited: return fmt::format("exited with status {}", result.exitCode);
    case Outcome::signaled: return "killed by " + signalText(result.signal);
    case Outcome::timedOut:
      if (recipe && recipe->limits.timeoutMs > 0) {
        return fmt::format("timed out after {:.3f} s (the recipe's limit); the process tree was killed",
                           static_cast<double>(recipe->limits.timeoutMs) / 1000.0);
      }
      return "timed out; the process tree was killed";
    case Outcome::setupFailed:
      if (result.setupStep.empty()) return "sandbox setup failed";
      return fmt::format("sandbox setup failed at {}: {}", result.setupStep, errnoText(result.setupErrno));
    case Outcome::commandNotFound: return fmt::format("command not found (exit {})", result.exitCode);
    case Outcome::notExecutable: return fmt::format("command not executable (exit {})", result.exitCode);
    case Outcome::seccompViolation:
      if (result.violatingSyscall.empty()) return "killed by the seccomp filter";
      return fmt::format("killed by the seccomp filter for calling {}", result.violatingSyscall);
    case Outcome::cancelled:
      return result.signal ? "cancelled with " + signalText(result.signal) : std::string("cancelled");
  }
  return "unknown outcome";
}

std::optional<int64_t> startedMs(const JobReport& report) {
  if (report.row) return report.row->startedAtMs;
  if (report.events) return report.events->description.startedAtUnixNs / kNsPerMs;
  return std::nullopt;
}

std::optional<int64_t> stoppedMs(const JobReport& report) {
  if (report.row && report.row->stoppedAtMs) return report.row->stoppedAtMs;
  if (report.events && report.events->finished) {
    return report.events->description.startedAtUnixNs / kNsPerMs +
           static_cast<int64_t>(report.events->finished->result.wallNs) / kNsPerMs;
  }
  return std::nullopt;
}

sandbox::ResourceUsage knownUsage(const JobReport& report) {
  if (report.events && report.events->finished) return report.events->finished->result.rusage;
  return report.row ? report.row->rusage : sandbox::ResourceUsage{};
}

std::string jobId(const JobReport& report) {
  if (report.row) return report.row->id;
  return report.events ? report.events->description.jobId : std::string();
}

const char* mountKindName(sandbox::Mount::Kind kind) {
  switch (kind) {
    case sandbox::Mount::Kind::bind: return "bind";
    case sandbox::Mount::Kind::roBind: return "ro-bind";
    case sandbox::Mount::Kind::tmpfs: return "tmpfs";
    case sandbox::Mount::Kind::homeOverlay: return "home-overlay";
  }
  return "?";
}

std::string limitsText(const sandbox::Limits& limits) {
  std::vector<std::string> parts;
  if (limits.timeoutMs) {
    parts.push_back(fmt::format("timeout {:.3f} s", static_cast<double>(limits.timeoutMs) / 1000.0));
  }
  if (limits.memoryBytes) parts.push_back("memory " + formatBytes(limits.memoryBytes));
  if (limits.maxOpenFiles) parts.push_back(fmt::format("open files {}", limits.maxOpenFiles));
  if (limits.maxProcesses) parts.push_back(fmt::format("processes {}", limits.maxProcesses));
  if (limits.cpuSeconds) parts.push_back(fmt::format("cpu {} s", limits.cpuSeconds));
  if (limits.maxFileBytes) parts.push_back("file size " + formatBytes(limits.maxFileBytes));
  if (limits.killGraceMs) parts.push_back(fmt::format("kill grace {} ms", limits.killGraceMs));
  if (parts.empty()) return "none";
  return fmt::format("{}", fmt::join(parts, ", "));
}

// "label      value" lines with a fixed label column.
class Lines {
 public:
  void add(std::string_view label, std::string_view value) {
    out_ += fmt::format("{:<{}} {}\n", label, kLabelWidth, value);
  }
  void more(std::string_view value) { out_ += fmt::format("{:<{}} {}\n", "", kLabelWidth, value); }
  void raw(std::string_view text) { out_ += text; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void addEnv(Lines& lines, const sandbox::Recipe& recipe, const ReportStyle& style) {
  bool first = true;
  for (const auto& var : recipe.env) {
    std::string text = style.escape(var.name + "=" + var.value);
    if (first) lines.add("env", text);
    else lines.more(text);
    first = false;
  }
  if (recipe.env.empty()) lines.add("env", "(empty)");
}

void addRecipe(Lines& lines, const sandbox::Recipe& recipe, const ReportStyle& style, bool env) {
  lines.add("command", style.escape(displayCommand(recipe.command, recipe.args)));
  if (!recipe.name.empty()) lines.add("name", style.escape(recipe.name));
  lines.add("work dir", style.escape(recipe.workDir.empty() ? "(default)" : recipe.workDir));
  lines.add("sandbox", !recipe.sandboxed ? "none (recorded only)"
                       : recipe.network  ? "namespaces, host network"
                                         : "namespaces, loopback-only network");
  if (recipe.uid >= 0 || recipe.gid >= 0) lines.add("ids", fmt::format("uid {} gid {}", recipe.uid, recipe.gid));
  lines.add("limits", limitsText(recipe.limits));
  bool first = true;
  for (const auto& mount : recipe.mounts) {
    std::string text = mount.kind == sandbox::Mount::Kind::tmpfs
                           ? fmt::format("tmpfs {}", mount.destination)
                           : fmt::format("{} {} -> {}", mountKindName(mount.kind), mount.source,
                                         mount.destination.empty() ? mount.source : mount.destination);
    if (first) lines.add("mounts", style.escape(text));
    else lines.more(style.escape(text));
    first = false;
  }
  if (recipe.mounts.empty()) lines.add("mounts", "(default)");
  if (env) addEnv(lines, recipe, style);
  else lines.add("env", fmt::format("{} variable{} (--env shows them)", recipe.env.size(),
                                    recipe.env.size() == 1 ? "" : "s"));
  std::string masked;
  for (const auto& name : maskedNames(recipe)) masked += (masked.empty() ? "" : ", ") + name;
  if (!masked.empty()) lines.add("masked env", style.escape(masked + " (secrets: recorded as ***, masked in the output)"));
  for (const auto& var : recipe.meta) lines.add("meta", style.escape(var.name + "=" + var.value));
}

}  // namespace

std::string formatBytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(units)) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string reportStatus(const JobReport& report) {
  if (report.row) return store::jobStatusName(report.row->status);
  if (report.events && report.events->finished) return report.events->finished->resultName;
  return "unknown";
}

std::string outcomeText(const JobReport& report) {
  if (report.row && report.row->status == store::JobStatus::running) {
    return fmt::format("running (pid {})", report.row->pid);
  }
  auto result = knownResult(report);
  if (!result) {
    if (report.row && report.row->status == store::JobStatus::abandoned) {
      return "abandoned: its recorder went away before the job finished";
    }
    if (report.events && report.events->damage) return "unknown: the events file ends before the job finished";
    return "unknown: no finish recorded (still running, or its recorder was killed)";
  }
  return resultText(*result, report.recipe);
}

}  // namespace jobtape::recorder

namespace jobtape::recorder {

namespace {

std::string seconds(uint64_t ns) { return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9); }

void addTimes(Lines& lines, const JobReport& report, const ReportStyle& style) {
  auto started = startedMs(report);
  auto stopped = stoppedMs(report);
  if (started) lines.add("started", style.timestamp(*started));
  if (started && stopped) {
    lines.add("finished", fmt::format("{} (took {})", style.timestamp(*stopped), style.duration(*stopped - *started)));
  } else if (report.row && report.row->status == store::JobStatus::running) {
    lines.add("finished", "not yet");
  }
}

void addResources(Lines& lines, const JobReport& report) {
  sandbox::ResourceUsage usage = knownUsage(report);
  lines.add("cpu", fmt::format("user {}, system {}; max rss {}", seconds(usage.userCpu.count()), seconds(usage.systemCpu.count()),
                               formatBytes(usage.maxRssBytes)));
  if (report.events && report.events->finished) {
    lines.more(fmt::format("faults {} minor, {} major; blocks {} in, {} out; switches {} voluntary, {} involuntary",
                           usage.minorFaults, usage.majorFaults, usage.inBlocks, usage.outBlocks,
                           usage.voluntarySwitches, usage.involuntarySwitches));
  }
}

void addFiles(Lines& lines, const JobReport& report, const ReportStyle& style) {
  if (report.events) {
    lines.add("output", fmt::format("{} stdout, {} stderr", formatBytes(report.events->stdoutBytes),
                                    formatBytes(report.events->stderrBytes)));
  }
  if (report.events && report.events->tracingIncomplete) {
    lines.add("tracing", "incomplete: " + style.escape(tracingIncompleteText(*report.events->tracingIncomplete)));
  }
  lines.add("events", style.escape(report.eventsFile.string()));
  if (report.events && report.events->damage) {
    lines.more(fmt::format("damaged at byte {}: {}", report.events->damage->offset,
                           style.escape(report.events->damage->reason)));
  } else if (!report.events && !report.eventsError.empty()) {
    lines.more(style.escape(report.eventsError));
  }
  if (report.keptState) lines.add("state", style.escape(report.keptState->string()) + " (kept for debug-shell)");
}


// What failed, as the first thing after the outcome: each failed command
// with its chain and the start of its output.
void addFailedLines(Lines& lines, const JobReport& report, const ReportStyle& style, const ReportView& view) {
  if (!report.failed || report.failed->processes.empty()) return;
  WhatFailedTextOptions options;
  options.escape = style.escape;
  options.failure = style.failure;
  options.note = style.note;
  options.maxLines = kWhatFailedLines;
  options.width = view.width;
  options.wide = view.wide;
  options.chains = true;
  options.indent = std::string(kLabelWidth + 1, ' ');
  std::string text = renderWhatFailed(*report.failed, options);
  lines.raw(fmt::format("{:<{}} ", "failed", kLabelWidth) + text.substr(options.indent.size()));
  if (report.failed->processesStatusUnknown > 0) {
    lines.more(fmt::format("{} processes ended with no status known (the kernel tells it from Linux 6.15 on)",
                           report.failed->processesStatusUnknown));
  }
}

void addProcesses(Lines& lines, const JobReport& report, const ReportStyle& style, const ReportView& view) {
  lines.raw("\n");
  if (!report.events || report.events->processes.nodes.empty()) {
    lines.raw("no processes recorded (exec tracing was off, or the events file could not be read)\n");
    return;
  }
  const ProcessTree& tree = report.events->processes;
  if (!view.failedOnly) return lines.raw(renderProcessTreeText(tree, style, view));
  std::vector<bool> shown = failingChainNodes(tree, report.events->finished);
  if (std::find(shown.begin(), shown.end(), true) == shown.end()) {
    lines.raw("no process failed\n");
    return;
  }
  lines.raw(renderProcessTreeText(tree, style, view, shown));
}

}  // namespace

void addWhatFailed(JobReport& report) {
  if (!report.events || (report.events->finished && report.events->finished->result.succeeded())) return;
  try {
    report.failed = readWhatFailed(report.eventsFile, *report.events);
  } catch (const NotAnEventsFile&) {
    // Read once already: gone since. The report says what it has.
  }
}

std::string renderReportText(const JobReport& report, const ReportStyle& style, const ReportView& view) {
  Lines lines;
  lines.add("job", jobId(report));
  lines.add("status", style.status(reportStatus(report)));
  std::string outcome = outcomeText(report);
  lines.add("outcome", outcome);
  // The recorder's own line, when it says more than the outcome already does.
  if (report.events && report.events->finished) {
    const std::string& message = report.events->finished->result.message;
    if (!message.empty() && outcome.rfind(message, 0) != 0) lines.more(style.escape(message));
  }
  addFailedLines(lines, report, style, view);
  if (report.row) {
    std::string build = report.row->buildId;
    if (report.build && report.build->result) build += " (" + *report.build->result + ")";
    lines.add("build", build);
    lines.add("project", style.escape(report.row->projectPath.empty() ? "-" : report.row->projectPath));
    if (report.row->pid > 0) lines.add("pid", std::to_string(report.row->pid));
  } else if (report.events) {
    lines.add("build", report.events->description.buildId);
  }
  addTimes(lines, report, style);
  if (report.events) {
    const JobDescription& d = report.events->description;
    lines.add("host", style.escape(fmt::format("{} (kernel {})", d.host, d.kernel)));
    lines.add("terminal", d.terminal ? "yes (stdout and stderr on terminals of its own)" : "no (pipes)");
  }
  std::string hash = report.row ? report.row->recipeHash : report.events ? report.events->description.recipeHash : "";
  lines.add("recipe", hash + (report.recipeSource.empty() ? "" : " (from the " + report.recipeSource + ")"));
  if (report.recipe) addRecipe(lines, *report.recipe, style, view.env);
  addResources(lines, report);
  addFiles(lines, report, style);
  if (view.processes || view.failedOnly) addProcesses(lines, report, style, view);
  return lines.take();
}

}  // namespace jobtape::recorder

namespace jobtape::recorder {

namespace {

template <typename T>
void nullable(JsonWriter& json, std::string_view name, const std::optional<T>& value) {
  json.key(name);
  json.optional(value);
}

void writeOutcome(JsonWriter& json, const JobReport& report) {
  auto result = knownResult(report);
  json.field("outcome", result ? std::string(sandbox::outcomeName(result->outcome)) : std::string());
  json.field("outcome_text", outcomeText(report));
  json.key("exit_code");
  result && result->exitCode >= 0 ? json.value(result->exitCode) : json.null();
  writeSignalJson(json, result ? std::optional<int>(result->signal) : std::nullopt);
  if (!result) return;
  if (!result->setupStep.empty()) json.field("setup_step", result->setupStep).field("setup_errno", result->setupErrno);
  if (!result->violatingSyscall.empty()) json.field("violating_syscall", result->violatingSyscall);
  if (!result->message.empty()) json.field("message", result->message);
}

void writeProcesses(JsonWriter& json, const ProcessTree& tree) {
  json.beginArray();
  for (const auto& row : tree.depthFirst()) {
    const ProcessNode& node = tree.nodes[row.node];
    json.beginObject()
        .field("pid", node.pid)
        .field("ppid", node.ppid)
        .field("depth", static_cast<uint64_t>(row.depth))
        .field("spawned", node.spawned)
        .field("start_ns", node.startNs);
    nullable(json, "duration_ns", node.durationNs());
    bool known = node.exit && node.exit->statusKnown;
    json.key("exit_code");
    known && !node.exit->signal ? json.value(node.exit->exitCode) : json.null();
    writeSignalJson(json, known ? std::optional<int>(node.exit->signal) : std::nullopt);
    json.key("images").beginArray();
    for (const auto& image : node.images) {
      json.beginObject().field("elapsed_ns", image.elapsedNs).field("executable", image.executable);
      json.key("argv").beginArray();
      for (const auto& arg : image.argv) json.value(arg);
      json.endArray().field("cwd", image.cwd).endObject();
    }
    json.endArray().endObject();
  }
  json.endArray();
}

void writeRowFields(JsonWriter& json, const store::JobRow& row, const std::optional<store::BuildRow>& build) {
  json.field("build_id", row.buildId)
      .field("build_result", build ? build->result : std::nullopt)
      .field("project", row.projectPath)
      .field("name", row.name)
      .field("command", row.command)
      .field("pid", static_cast<int64_t>(row.pid));
}

}  // namespace

// The keys and their meaning are documented in docs/JSON.md ("job show").
std::string renderReportJson(const JobReport& report, const ReportView& view) {
  JsonWriter json(true);
  json.beginObject().field("id", jobId(report));
  json.key("short_id");
  report.row ? json.value(report.shortId) : json.null();
  json.field("status", reportStatus(report));
  if (report.row) {
    writeRowFields(json, *report.row, report.build);
  } else if (report.events) {
    json.field("build_id", report.events->description.buildId);
  }
  writeOutcome(json, report);
  auto started = startedMs(report);
  auto stopped = stoppedMs(report);
  writeTimeJson(json, "started_at", started);
  writeTimeJson(json, "stopped_at", stopped);
  writeDurationJson(json, started, stopped);
  json.field("recipe_hash", report.row ? report.row->recipeHash
                            : report.events ? report.events->description.recipeHash : std::string());
  json.field("recipe_source", report.recipeSource);
  json.key("recipe");
  report.recipe ? json.raw(sandbox::recipeToJson(*report.recipe)) : json.null();
  json.key("masked_env").beginArray();
  if (report.recipe) {
    for (const auto& name : maskedNames(*report.recipe)) json.value(name);
  }
  json.endArray();
  if (report.events) {
    const JobDescription& d = report.events->description;
    json.field("host", d.host).field("kernel", d.kernel).field("sandboxed", d.sandboxed);
    json.field("terminal", d.terminal);
    json.field("stdout_bytes", report.events->stdoutBytes).field("stderr_bytes", report.events->stderrBytes);
  }
  json.key("rusage");
  writeResourceUsageJson(json, knownUsage(report));
  json.field("events_file", report.eventsFile.string());
  json.key("events_damage");
  if (report.events && report.events->damage) {
    json.beginObject()
        .field("offset", report.events->damage->offset)
        .field("reason", report.events->damage->reason)
        .endObject();
  } else {
    json.null();
  }
  if (!report.events && !report.eventsError.empty()) json.field("events_error", report.eventsError);
  json.key("tracing_incomplete");
  if (report.events && report.events->tracingIncomplete) {
    const sandbox::TracingShortfall& shortfall = *report.events->tracingIncomplete;
    json.beginObject()
        .field("missed_execs", shortfall.missedExecs)
        .field("missed_exits", shortfall.missedExits)
        .field("reason", shortfall.reason)
        .endObject();
  } else {
    json.null();
  }
  json.field("state_kept", report.row ? report.row->stateKept : report.keptState.has_value());
  json.key("state_dir");
  report.keptState ? json.value(report.keptState->string()) : json.null();
  json.key("failed_processes");
  if (report.failed) writeFailedProcessesJson(json, *report.failed);
  else json.beginArray().endArray();
  if (view.processes || view.failedOnly) {
    json.key("processes");
    if (report.events) writeProcesses(json, report.events->processes);
    else json.beginArray().endArray();
  }
  json.endObject();
  return json.take() + "\n";
}

}  // namespace jobtape::recorder
