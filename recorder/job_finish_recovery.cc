#include "recorder/job_finish_recovery.h"

#include "recorder/events/event_reader.h"
#include "sandbox/run_result.h"
#include "store/job_dir.h"

namespace jobtape::recorder {

std::optional<store::JobFinish> finishRecordedIn(const std::filesystem::path& jobDir) noexcept {
  try {
    auto reader = EventReader::openIfReadable(store::eventsFileIn(jobDir));
    if (!reader) return std::nullopt;
    std::optional<JobFinishedEvent> finished;
    while (auto event = reader->next()) {
      if (event->kind == Event::Kind::jobFinished) finished = event->finished;
    }
    if (!finished) return std::nullopt;
    const sandbox::RunResult& run = finished->result;
    store::JobFinish finish;
    finish.result = finished->resultName == "succeeded" ? store::JobStatus::succeeded : store::JobStatus::failed;
    finish.exitCode = run.exitCode;
    if (run.signal != 0) finish.signal = run.signal;
    finish.outcome = sandbox::outcomeName(run.outcome);
    finish.rusage = run.rusage;
    return finish;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace jobtape::recorder
