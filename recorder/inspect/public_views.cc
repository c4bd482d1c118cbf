// The renderings of <jobtape/views.h> that read events: the job report,
// logs and replay, over job_report, log_render and replay.
#include <jobtape/views.h>

#include <filesystem>
#include <system_error>

#include "recorder/inspect/home_reader.h"
#include "recorder/inspect/job_report.h"
#include "recorder/inspect/log_render.h"
#include "recorder/inspect/public_events.h"
#include "recorder/inspect/public_records.h"
#include "recorder/inspect/replay.h"
#include "sandbox/recipe.h"
#include "store/job_dir.h"

namespace jobtape {

namespace fs = std::filesystem;

namespace {

// The events part of a recorded job's report; a missing or broken file is
// said in the report, not fatal: the row alone is worth showing.
void loadEvents(recorder::JobReport& report, const SelectedJob& job) {
  try {
    auto reader = recorder::EventReader::open(job.eventsFile);
    report.events = recorder::summarizeEvents(*reader);
  } catch (const recorder::NotAnEventsFile& error) {
    report.eventsError = fs::exists(job.eventsFile) ? error.what() : "missing (removed by 'jobtape gc'?)";
  }
  // A running job's last frame is still being written: not damage.
  if (report.events && job.record->status == JobStatus::running) report.events->damage.reset();
}

// The store's copy of the recipe, else the events file's.
void loadRecipe(recorder::JobReport& report) {
  if (report.row && !report.row->recipeMeta.empty()) {
    try {
      report.recipe = sandbox::recipeFromJson(report.row->recipeMeta);
      report.recipeSource = "store";
      return;
    } catch (const std::exception&) {
    }
  }
  if (report.events) {
    report.recipe = report.events->description.recipe;
    report.recipeSource = "events file";
  }
}

recorder::JobReport gatherReport(recorder::StoreHome& home, const SelectedJob& job) {
  recorder::JobReport report;
  report.eventsFile = job.eventsFile;
  if (!job.record) {
    // A file named by path must be one.
    auto events = home.events(job);
    report.events = recorder::summarizeEvents(*events->impl().reader);
    return report;
  }
  auto* store = home.store();
  report.row = recorder::toStore(*job.record);
  report.shortId = store->shortestUniquePrefix(job.record->id);
  report.build = store->build(job.record->buildId);
  loadEvents(report, job);
  fs::path state = store::stateDirIn(store->jobDirOf(*report.row));
  std::error_code ec;
  if (fs::is_directory(state, ec)) report.keptState = state;
  return report;
}

// Output for the renderers, checked after every write.
class StreamSink : public recorder::ByteSink {
 public:
  explicit StreamSink(std::ostream& out) : out_(out) {}
  void write(std::string_view bytes) override {
    out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    check();
  }
  void flush() {
    out_.flush();
    check();
  }

 private:
  void check() {
    if (!out_) throw Error(Error::Kind::io, "cannot write the output");
  }
  std::ostream& out_;
};

}  // namespace

void writeJobReport(Home& home, const SelectedJob& job, const ReportOptions& options, std::ostream& out) {
  auto& ours = recorder::storeHomeOf(home);
  std::string text = recorder::publicErrors([&] {
    recorder::JobReport report = gatherReport(ours, job);
    loadRecipe(report);
    recorder::addWhatFailed(report);
    recorder::ReportView view{options.processes, options.failedOnly, options.env, options.wide, options.width};
    return options.json ? recorder::renderReportJson(report, view)
                        : recorder::renderReportText(report, options.style, view);
  });
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw Error(Error::Kind::io, "cannot write the output");
}

std::optional<LogFormat> parseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  if (name == "cast") return LogFormat::cast;
  return std::nullopt;
}

namespace {

// The finished job's wall time from its events file; nullopt while it runs.
std::optional<uint64_t> recordedDurationNs(const std::filesystem::path& path) {
  auto reader = recorder::EventReader::openIfReadable(path);
  if (!reader) return std::nullopt;
  while (auto event = reader->next()) {
    if (event->kind == recorder::Event::Kind::jobFinished) return event->finished.result.wallNs;
  }
  return std::nullopt;
}

}  // namespace

LogSummary writeLogs(JobEvents& events, const LogOptions& options, std::ostream& out) {
  if (options.timestamps && options.format != LogFormat::text) {
    throw Error(Error::Kind::invalidArgument, "timestamps go with the text format only");
  }
  recorder::LogOptions renderOptions;
  renderOptions.format = options.format;
  renderOptions.streams = options.streams;
  renderOptions.timestamps = options.timestamps;
  renderOptions.tailLines = options.tailLines;
  renderOptions.castWidth = options.castWidth;
  renderOptions.castHeight = options.castHeight;

  auto& impl = events.impl();
  // A cast's header holds the duration: read the file once ahead for it
  // rather than hold the whole output until the end.
  if (options.format == LogFormat::cast) renderOptions.castDurationNs = recordedDurationNs(impl.path);
  auto& reader = *impl.reader;
  StreamSink sink(out);
  recorder::LogRenderer renderer(reader.description(), renderOptions, sink);
  recorder::publicErrors([&] {
    bool finished = false;
    while (auto event = reader.next()) {
      finished |= event->kind == recorder::Event::Kind::jobFinished;
      renderer.add(*event);
    }
    if (options.follow && !finished) {
      renderer.catchUp();
      sink.flush();
      while (auto event = reader.nextFollowing([&impl] { return impl.storeSaysStopped(); })) {
        renderer.add(*event);
        sink.flush();
        if (event->kind == recorder::Event::Kind::jobFinished) break;
      }
      // The job ended without a last event reaching us yet: take what is there.
      while (auto event = reader.next()) renderer.add(*event);
    }
    renderer.finish();
    sink.flush();
  });
  LogSummary summary;
  if (renderer.tracingIncomplete()) summary.tracingIncomplete = recorder::toPublic(*renderer.tracingIncomplete());
  summary.tailCutBytes = renderer.tailCut();
  return summary;
}

std::string tracingShortfallText(const TracingShortfall& shortfall) {
  return recorder::tracingIncompleteText(
      {shortfall.elapsedNs, shortfall.missedExecs, shortfall.missedExits, shortfall.reason});
}

namespace {

// stdout chunks to one stream and stderr chunks to the other, each at once.
class StreamReplaySink : public recorder::ReplaySink {
 public:
  StreamReplaySink(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}
  void write(sandbox::Stream stream, std::string_view bytes) override {
    std::ostream& to = stream == sandbox::Stream::stdout_ ? out_ : err_;
    to.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    to.flush();
    if (!to) throw Error(Error::Kind::io, "cannot write the output");
  }

 private:
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace

uint64_t replayOutput(JobEvents& events, const ReplayOptions& options, std::ostream& out, std::ostream& err) {
  validateReplayOptions(options);
  auto& reader = *events.impl().reader;
  auto next = [&reader]() -> std::optional<recorder::OutputEvent> {
    while (auto event = reader.next()) {
      if (event->kind == recorder::Event::Kind::output) return std::move(event->output);
    }
    return std::nullopt;
  };
  recorder::SteadyReplayClock clock;
  StreamReplaySink sink(out, err);
  return recorder::publicErrors([&] { return recorder::replay(next, options, clock, sink); });
}

}  // namespace jobtape
