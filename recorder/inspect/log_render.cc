#include "recorder/inspect/log_render.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <fmt/format.h>

#include "recorder/inspect/json_text.h"
#include "recorder/job_command_line.h"

namespace jobtape::recorder {

namespace {

constexpr double kNsPerSecond = 1e9;

const char* streamName(sandbox::Stream stream) {
  return stream == sandbox::Stream::stdout_ ? "stdout" : "stderr";
}

size_t newlines(std::string_view bytes) { return static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n')); }


void writeStringArray(JsonWriter& json, const std::vector<std::string>& items) {
  json.beginArray();
  for (const auto& item : items) json.value(item);
  json.endArray();
}

std::string findEnv(const sandbox::Recipe& recipe, std::string_view name) {
  for (const auto& var : recipe.env) {
    if (var.name == name) return var.value;
  }
  return {};
}

// Where the last `lines` lines of the held output start: (event index, byte
// offset in it). A final '\n' ends the last line rather than starting one.
std::pair<size_t, size_t> tailStart(const std::deque<Event>& held, size_t lines) {
  if (lines == 0) return {held.size(), 0};
  std::optional<size_t> lastOutput;
  for (size_t i = held.size(); i-- > 0;) {
    if (held[i].kind == Event::Kind::output) {
      lastOutput = i;
      break;
    }
  }
  size_t seen = 0;
  for (size_t i = held.size(); i-- > 0;) {
    if (held[i].kind != Event::Kind::output) continue;
    const std::string& bytes = held[i].output.bytes;
    for (size_t k = bytes.size(); k-- > 0;) {
      if (bytes[k] != '\n') continue;
      if (i == lastOutput && k == bytes.size() - 1) continue;
      if (++seen == lines) return {i, k + 1};
    }
  }
  return {0, 0};  // fewer lines than asked for: all of them
}

}  // namespace

std::string elapsedPrefix(uint64_t elapsedNs) {
  return fmt::format("[{:8.3f}s] ", static_cast<double>(elapsedNs) / kNsPerSecond);
}

LogRenderer::LogRenderer(const JobDescription& description, const LogOptions& options, ByteSink& sink)
    : description_(description), options_(options), sink_(sink) {}

bool LogRenderer::wanted(const OutputEvent& output) const {
  switch (options_.streams) {
    case StreamFilter::both: return true;
    case StreamFilter::stdoutOnly: return output.stream == sandbox::Stream::stdout_;
    case StreamFilter::stderrOnly: return output.stream == sandbox::Stream::stderr_;
  }
  return true;
}

void LogRenderer::add(const Event& event) {
  switch (event.kind) {
    case Event::Kind::output: lastNs_ = std::max(lastNs_, event.output.elapsedNs); break;
    case Event::Kind::exec: lastNs_ = std::max(lastNs_, event.exec.record.elapsedNs); break;
    case Event::Kind::processExit: lastNs_ = std::max(lastNs_, event.processExit.record.elapsedNs); break;
    case Event::Kind::jobFinished: finishedNs_ = event.finished.result.wallNs; break;
    case Event::Kind::tracingIncomplete: tracingIncomplete_ = event.tracingIncomplete; break;
    default: break;
  }
  if (event.kind == Event::Kind::output && !wanted(event.output)) return;
  if (holding()) {
    hold(event);
  } else {
    emit(event);
  }
}

void LogRenderer::hold(const Event& event) {
  held_.push_back(event);
  if (event.kind == Event::Kind::output) {
    heldNewlines_ += newlines(event.output.bytes);
    heldBytes_ += event.output.bytes.size();
  }
  trimHeld();
  cutHeldToWindow();
}

// A tail whose lines hold more than kTailWindowBytes (one huge line) keeps
// only the window's last bytes: memory stays bounded whatever the lines.
void LogRenderer::cutHeldToWindow() {
  while (heldBytes_ > kTailWindowBytes && !held_.empty()) {
    Event& front = held_.front();
    if (front.kind != Event::Kind::output) {
      held_.pop_front();
      continue;
    }
    std::string& bytes = front.output.bytes;
    size_t excess = heldBytes_ - kTailWindowBytes;
    size_t drop = std::min(excess, bytes.size());
    heldNewlines_ -= newlines(std::string_view(bytes).substr(0, drop));
    heldBytes_ -= drop;
    tailCut_ += drop;
    if (drop == bytes.size()) {
      held_.pop_front();
    } else {
      bytes.erase(0, drop);
    }
  }
}

// With --tail N only the events after the N+1-th newline from the end can
// matter (one more than N: the very last byte may be a newline ending the
// last line), so older ones are dropped as they come: memory stays bounded by
// the tail, not by the log.
void LogRenderer::trimHeld() {
  if (!options_.tailLines) return;
  size_t keep = *options_.tailLines + 1;
  while (held_.size() > 1) {
    const Event& front = held_.front();
    size_t frontNewlines = front.kind == Event::Kind::output ? newlines(front.output.bytes) : 0;
    if (heldNewlines_ - frontNewlines < keep) break;
    heldNewlines_ -= frontNewlines;
    if (front.kind == Event::Kind::output) heldBytes_ -= front.output.bytes.size();
    held_.pop_front();
  }
}

void LogRenderer::catchUp() {
  if (caughtUp_) return;
  caughtUp_ = true;
  std::deque<Event> held;
  held.swap(held_);
  heldNewlines_ = 0;
  heldBytes_ = 0;
  if (options_.format == LogFormat::cast) writeCastHeader(options_.castDurationNs ? options_.castDurationNs : finishedNs_);
  if (options_.format == LogFormat::json) writeJsonStarted();

  size_t first = 0;
  size_t firstOffset = 0;
  if (options_.tailLines) std::tie(first, firstOffset) = tailStart(held, *options_.tailLines);
  for (size_t i = first; i < held.size(); ++i) {
    if (i == first && firstOffset > 0) {
      Event cut = held[i];
      cut.output.bytes.erase(0, firstOffset);
      if (!cut.output.bytes.empty()) emit(cut);
      continue;
    }
    // Events before the cut went with the lines they came between.
    emit(held[i]);
  }
}

void LogRenderer::finish() {
  catchUp();
  if (options_.format == LogFormat::json) writeJsonStarted();
  if (options_.format == LogFormat::cast && !castCarry_.empty()) {
    // A character that never completed: show it as U+FFFD rather than drop it.
    std::string line = fmt::format("[{:.6f}, \"o\", ", static_cast<double>(castLastNs_) / kNsPerSecond);
    appendJsonString(line, castCarry_);
    line += "]\n";
    castCarry_.clear();
    sink_.write(line);
  }
}

void LogRenderer::emit(const Event& event) {
  switch (options_.format) {
    case LogFormat::text:
      if (event.kind == Event::Kind::output) emitText(event.output);
      break;
    case LogFormat::json: emitJson(event); break;
    case LogFormat::cast:
      if (event.kind == Event::Kind::output) emitCast(event.output);
      break;
  }
}

void LogRenderer::emitText(const OutputEvent& output) {
  if (!options_.timestamps) {
    sink_.write(output.bytes);
    return;
  }
  std::string_view rest = output.bytes;
  std::string out;
  while (!rest.empty()) {
    if (atLineStart_) out += elapsedPrefix(output.elapsedNs);
    size_t newline = rest.find('\n');
    size_t length = newline == std::string_view::npos ? rest.size() : newline + 1;
    out.append(rest.substr(0, length));
    atLineStart_ = newline != std::string_view::npos;
    rest.remove_prefix(length);
  }
  sink_.write(out);
}

void LogRenderer::writeJsonStarted() {
  if (headerWritten_) return;
  headerWritten_ = true;
  const JobDescription& d = description_;
  JsonWriter json;
  json.beginObject()
      .field("event", "job_started")
      .field("job_id", d.jobId)
      .field("build_id", d.buildId)
      .field("recipe_hash", d.recipeHash)
      .field("host", d.host)
      .field("started_at", isoTimestampMs(d.startedAtUnixNs / 1'000'000))
      .field("started_at_unix_ns", d.startedAtUnixNs)
      .field("command", d.recipe.command);
  json.key("args");
  writeStringArray(json, d.recipe.args);
  json.field("work_dir", d.recipe.workDir).field("sandboxed", d.sandboxed).endObject();
  sink_.write(json.text() + "\n");
}

void LogRenderer::emitJson(const Event& event) {
  writeJsonStarted();
  JsonWriter json;
  json.beginObject();
  switch (event.kind) {
    case Event::Kind::output: {
      const OutputEvent& output = event.output;
      json.field("event", "output")
          .field("elapsed_ns", output.elapsedNs)
          .field("elapsed", static_cast<double>(output.elapsedNs) / kNsPerSecond)
          .field("stream", streamName(output.stream))
          .field("data", output.bytes);
      // JSON strings cannot carry every byte; keep the exact bytes too.
      if (!isValidUtf8(output.bytes)) json.field("base64", base64Encode(output.bytes));
      break;
    }
    case Event::Kind::exec: {
      const sandbox::ExecRecord& exec = event.exec.record;
      json.field("event", "exec")
          .field("elapsed_ns", exec.elapsedNs)
          .field("pid", exec.pid)
          .field("ppid", exec.ppid)
          .field("spawned", event.exec.spawned)
          .field("executable", exec.executable);
      json.key("argv");
      writeStringArray(json, exec.argv);
      json.field("cwd", exec.cwd);
      break;
    }
    case Event::Kind::processExit: {
      const sandbox::ProcessExitRecord& exit = event.processExit.record;
      json.field("event", "process_exit")
          .field("elapsed_ns", exit.elapsedNs)
          .field("pid", exit.pid)
          .field("status_known", exit.statusKnown)
          .field("exit_code", exit.exitCode);
      writeSignalJson(json, exit.signal);
      json.key("rusage");
      writeResourceUsageJson(json, event.processExit.rusage);
      break;
    }
    case Event::Kind::jobFinished: {
      const sandbox::RunResult& result = event.finished.result;
      json.field("event", "job_finished")
          .field("elapsed_ns", result.wallNs)
          .field("result", event.finished.resultName)
          .field("outcome", sandbox::outcomeName(result.outcome))
          .field("exit_code", result.exitCode);
      writeSignalJson(json, result.signal);
      if (!result.setupStep.empty()) json.field("setup_step", result.setupStep).field("setup_errno", result.setupErrno);
      if (!result.violatingSyscall.empty()) json.field("violating_syscall", result.violatingSyscall);
      json.field("message", result.message);
      json.key("rusage");
      writeResourceUsageJson(json, result.rusage);
      break;
    }
    case Event::Kind::tracingIncomplete: {
      const sandbox::TracingShortfall& shortfall = event.tracingIncomplete;
      json.field("event", "tracing_incomplete")
          .field("elapsed_ns", shortfall.elapsedNs)
          .field("missed_execs", shortfall.missedExecs)
          .field("missed_exits", shortfall.missedExits)
          .field("reason", shortfall.reason);
      break;
    }
    case Event::Kind::jobStarted:
    case Event::Kind::unknown:
      return;  // the description was written first; unknown kinds are skipped
  }
  json.endObject();
  sink_.write(json.text() + "\n");
}

void LogRenderer::writeCastHeader(std::optional<uint64_t> durationNs) {
  if (headerWritten_) return;
  headerWritten_ = true;
  const JobDescription& d = description_;
  JsonWriter json;
  json.beginObject()
      .field("version", 2)
      .field("width", options_.castWidth)
      .field("height", options_.castHeight)
      .field("timestamp", d.startedAtUnixNs / 1'000'000'000);
  // A job still running has no duration yet.
  if (durationNs) json.field("duration", static_cast<double>(*durationNs) / kNsPerSecond);
  json.field("command", displayCommand(d.recipe.command, d.recipe.args));
  if (!d.recipe.name.empty()) json.field("title", d.recipe.name);
  std::string term = findEnv(d.recipe, "TERM");
  std::string shell = findEnv(d.recipe, "SHELL");
  if (!term.empty() || !shell.empty()) {
    json.key("env").beginObject();
    if (!shell.empty()) json.field("SHELL", shell);
    if (!term.empty()) json.field("TERM", term);
    json.endObject();
  }
  json.endObject();
  sink_.write(json.text() + "\n");
}

void LogRenderer::emitCast(const OutputEvent& output) {
  writeCastHeader(options_.castDurationNs ? options_.castDurationNs : finishedNs_);
  std::string data = castCarry_ + output.bytes;
  size_t carry = incompleteUtf8Suffix(data);
  castCarry_ = data.substr(data.size() - carry);
  data.resize(data.size() - carry);
  if (data.empty()) return;
  // A terminal needs "\r\n"; the job wrote to a pipe, so mostly "\n".
  std::string terminal;
  terminal.reserve(data.size() + data.size() / 16);
  for (char c : data) {
    if (c == '\n' && castLast_ != '\r') terminal += '\r';
    terminal += c;
    castLast_ = c;
  }
  // Times never go backwards in a cast, whatever the file says.
  castLastNs_ = std::max(castLastNs_, output.elapsedNs);
  std::string line = fmt::format("[{:.6f}, \"o\", ", static_cast<double>(castLastNs_) / kNsPerSecond);
  appendJsonString(line, terminal);
  line += "]\n";
  sink_.write(line);
}


}  // namespace jobtape::recorder
