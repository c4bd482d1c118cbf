#include "recorder/inspect/public_events.h"

#include <chrono>

#include "recorder/inspect/public_records.h"

namespace jobtape {

bool JobEvents::Impl::storeSaysStopped() {
  if (!storeStatus) return false;  // followed until its last event, like tail -f
  auto now = std::chrono::steady_clock::now();
  if (now - lastAsked_ < std::chrono::milliseconds(500)) return false;
  lastAsked_ = now;
  auto status = storeStatus();
  return status && *status != store::JobStatus::running;
}

bool JobEvents::Impl::storeSaysRunning() const {
  if (!storeStatus) return false;
  auto status = storeStatus();
  return status && *status == store::JobStatus::running;
}

JobEvents::JobEvents(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobEvents::~JobEvents() = default;

std::unique_ptr<JobEvents> JobEvents::open(const std::filesystem::path& eventsFile) {
  auto reader = recorder::publicErrors([&] { return recorder::EventReader::open(eventsFile); });
  return recorder::makeJobEvents(std::move(reader), eventsFile, {});
}

const JobDescription& JobEvents::description() const noexcept { return impl_->description; }
const std::filesystem::path& JobEvents::path() const noexcept { return impl_->path; }

std::optional<Event> JobEvents::next() {
  return recorder::publicErrors([&]() -> std::optional<Event> {
    while (auto event = impl_->reader->next()) {
      if (auto typed = recorder::toPublic(*event)) return typed;
    }
    return std::nullopt;
  });
}

std::optional<Event> JobEvents::nextFollowing(const std::function<bool()>& giveUp) {
  return recorder::publicErrors([&]() -> std::optional<Event> {
    auto stop = [&] { return (giveUp && giveUp()) || impl_->storeSaysStopped(); };
    while (auto event = impl_->reader->nextFollowing(stop)) {
      if (auto typed = recorder::toPublic(*event)) return typed;
    }
    return std::nullopt;
  });
}

std::optional<EventsDamage> JobEvents::damage() const {
  auto damage = impl_->reader->damage();
  if (!damage || impl_->storeSaysRunning()) return std::nullopt;
  return EventsDamage{damage->offset, damage->reason};
}

}  // namespace jobtape

namespace jobtape::recorder {

OutputStream toPublic(sandbox::Stream stream) {
  return stream == sandbox::Stream::stdout_ ? OutputStream::stdout_ : OutputStream::stderr_;
}

TracingShortfall toPublic(const sandbox::TracingShortfall& shortfall) {
  return {shortfall.elapsedNs, shortfall.missedExecs, shortfall.missedExits, shortfall.reason};
}

jobtape::JobDescription toPublic(const recorder::JobDescription& d) {
  return {d.jobId, d.buildId, d.recipe, d.recipeHash, d.host, d.startedAtUnixNs, d.sandboxed, d.stateDir,
          d.kernel, d.callerUid, d.callerGid, d.terminal};
}

namespace {

JobFinish finishOf(const JobFinishedEvent& finished) {
  const auto& r = finished.result;
  JobFinish finish;
  finish.result = finished.resultName;
  finish.outcome = r.outcome;
  finish.exitCode = r.exitCode;
  finish.signal = r.signal;
  finish.message = r.message;
  finish.setupStep = r.setupStep;
  finish.setupErrno = r.setupErrno;
  finish.violatingSyscall = r.violatingSyscall;
  finish.elapsedNs = r.wallNs;
  finish.rusage = r.rusage;
  return finish;
}

}  // namespace

std::optional<jobtape::Event> toPublic(const recorder::Event& event) {
  switch (event.kind) {
    case recorder::Event::Kind::output:
      return OutputChunk{toPublic(event.output.stream), event.output.elapsedNs, event.output.bytes};
    case recorder::Event::Kind::exec: {
      const auto& r = event.exec.record;
      return ProcessExec{r.elapsedNs, r.pid, r.ppid, r.executable, r.argv, r.cwd, event.exec.spawned};
    }
    case recorder::Event::Kind::processExit: {
      const auto& r = event.processExit.record;
      return ProcessExit{r.elapsedNs, r.pid, r.statusKnown, r.exitCode, r.signal, event.processExit.rusage};
    }
    case recorder::Event::Kind::jobFinished: return finishOf(event.finished);
    case recorder::Event::Kind::tracingIncomplete: return toPublic(event.tracingIncomplete);
    case recorder::Event::Kind::jobStarted:
    case recorder::Event::Kind::unknown: return std::nullopt;
  }
  return std::nullopt;
}

std::unique_ptr<JobEvents> makeJobEvents(std::unique_ptr<EventReader> reader, std::filesystem::path path,
                                         std::function<std::optional<store::JobStatus>()> storeStatus) {
  auto impl = std::make_unique<JobEvents::Impl>();
  impl->description = toPublic(reader->description());
  impl->reader = std::move(reader);
  impl->path = std::move(path);
  impl->storeStatus = std::move(storeStatus);
  return std::make_unique<JobEvents>(std::move(impl));
}

}  // namespace jobtape::recorder
