#include "recorder/inspect/home_reader.h"

#include <fmt/format.h>

#include <chrono>
#include <system_error>
#include <thread>

#include "recorder/events/event_reader.h"
#include "recorder/job_finish_recovery.h"
#include "recorder/inspect/public_events.h"
#include "recorder/inspect/public_records.h"
#include "store/home_safety.h"
#include "store/job_dir.h"
#include "store/selector.h"

namespace jobtape {

namespace fs = std::filesystem;

const char* jobStatusName(JobStatus status) noexcept { return store::jobStatusName(recorder::toStore(status)); }

std::optional<JobStatus> parseJobStatus(std::string_view name) noexcept {
  for (auto status : {JobStatus::running, JobStatus::succeeded, JobStatus::failed, JobStatus::abandoned}) {
    if (name == jobStatusName(status)) return status;
  }
  return std::nullopt;
}

namespace {

// Without a store: a home that holds other files and no jobtape.db is not
// a store at all (a mistyped home), said rather than read as empty.
void refuseForeignHome(const fs::path& home) {
  std::error_code ec;
  if (!fs::is_directory(home, ec) || fs::is_empty(home, ec)) return;
  if (fs::exists(home / store::kDatabaseName, ec)) return;
  throw HomeError(HomeError::Reason::notAStore,
                  fmt::format("{} is not a jobtape store (it has files but no {})", home.string(),
                              store::kDatabaseName),
                  "give the store's directory as the home");
}

}  // namespace

std::unique_ptr<Home> Home::open(const HomeOptions& options) {
  return recorder::publicErrors([&]() -> std::unique_ptr<Home> {
    fs::path path = store::resolveHome(options.home);
    auto store = store::Store::openReadOnlyIfExists(path, recorder::finishRecordedIn);
    if (!store && options.refuseForeign) refuseForeignHome(path);
    return std::make_unique<recorder::StoreHome>(path, std::move(store));
  });
}

}  // namespace jobtape

namespace jobtape::recorder {

namespace fs = std::filesystem;

StoreHome::StoreHome(fs::path path, std::unique_ptr<store::Store> store)
    : path_(std::move(path)), store_(std::move(store)) {}

StoreHome& storeHomeOf(Home& home) {
  auto* ours = dynamic_cast<StoreHome*>(&home);
  if (!ours) throw Error(Error::Kind::invalidArgument, "this Home was not opened by Home::open");
  return *ours;
}

store::Store& StoreHome::requireStore() {
  if (!store_) throw Error(Error::Kind::invalidArgument, "no jobs recorded yet in " + path_.string());
  return *store_;
}

void StoreHome::markAbandoned() noexcept {
  if (!store_) return;
  // A busy or read-only database cannot mark jobs abandoned now; the
  // answer is still worth giving.
  try {
    store_->reapAbandoned();
  } catch (...) {
  }
}

SelectedJob StoreHome::selectJob(const std::optional<std::string>& selector) {
  return publicErrors([&]() -> SelectedJob { return selected(store::resolveSelector(store_.get(), selector)); });
}

SelectedJob StoreHome::selectJobToFollow(const std::optional<std::string>& selector) {
  return publicErrors([&]() -> SelectedJob { return selected(store::resolveFollowSelector(store_.get(), selector)); });
}

SelectedJob StoreHome::selected(const store::Selection& selection) {
  if (auto* file = std::get_if<store::EventsFileSelection>(&selection)) return {std::nullopt, file->path};
  auto& row = std::get<store::JobRow>(selection);
  return {toPublic(row), store::eventsFileIn(store_->jobDirOf(row))};
}

std::optional<JobRecord> StoreHome::recordOf(const SelectedJob& selected) {
  if (selected.record) return selected.record;
  if (!store_) return std::nullopt;
  return publicErrors([&]() -> std::optional<JobRecord> {
    auto reader = EventReader::openIfReadable(selected.eventsFile);
    if (!reader) return std::nullopt;
    auto row = store_->job(reader->description().jobId);
    if (!row) return std::nullopt;
    std::error_code ec;
    bool same = fs::equivalent(store::eventsFileIn(store_->jobDirOf(*row)), selected.eventsFile, ec);
    if (!same || ec) return std::nullopt;
    return toPublic(*row);
  });
}

std::optional<JobRecord> StoreHome::job(const std::string& jobId) {
  if (!store_) return std::nullopt;
  return publicErrors([&]() -> std::optional<JobRecord> {
    auto row = store_->job(jobId);
    if (!row) return std::nullopt;
    return toPublic(*row);
  });
}

JobListing StoreHome::withoutDamaged(std::vector<store::JobRow> rows) {
  JobListing listing;
  for (auto& row : rows) {
    if (auto damage = store::jobRowDamage(store_->home(), row)) {
      listing.skipped.push_back(std::move(*damage));
      continue;
    }
    listing.jobs.push_back(toPublic(row));
  }
  return listing;
}

JobListing StoreHome::jobs(const JobQuery& query) {
  if (!store_) return {};
  return publicErrors([&] {
    store::JobFilter filter;
    if (query.status) filter.status = toStore(*query.status);
    if (query.project) {
      // "." means this directory, as recorded (absolute); anything that is
      // not a directory here is taken as a registry name.
      std::error_code ec;
      bool directory = fs::is_directory(*query.project, ec);
      filter.project = directory ? fs::weakly_canonical(*query.project, ec).string() : *query.project;
    }
    if (query.build) filter.buildId = store::resolveBuildSelector(*store_, query.build).id;
    filter.limit = query.limit;
    filter.startedSinceMs = query.startedSinceMs;
    return withoutDamaged(store_->jobs(filter));
  });
}

JobFiles StoreHome::files(const JobRecord& job) {
  return publicErrors([&] {
    auto& store = requireStore();
    fs::path dir = store.jobDirOf(toStore(job));
    JobFiles files{store.shortestUniquePrefix(job.id), store::eventsFileIn(dir), std::nullopt};
    std::error_code ec;
    if (fs::is_directory(store::stateDirIn(dir), ec)) files.stateDir = store::stateDirIn(dir);
    return files;
  });
}

std::string StoreHome::shortId(const std::string& jobId) {
  return publicErrors([&] { return requireStore().shortestUniquePrefix(jobId); });
}

std::unique_ptr<JobEvents> StoreHome::events(const SelectedJob& selected) {
  // A job that has just started may not have written its first frame yet:
  // give it a moment before calling the file broken.
  bool young = selected.record && selected.record->status == JobStatus::running;
  std::unique_ptr<EventReader> reader;
  for (int attempt = 0; !reader; ++attempt) {
    try {
      reader = EventReader::open(selected.eventsFile);
    } catch (const NotAnEventsFile& error) {
      if (young && attempt < 30) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (selected.record && !fs::exists(selected.eventsFile)) {
        throw EventsFileError(fmt::format("the events file of job {} is gone: {}", selected.record->id,
                                          selected.eventsFile.string()),
                              true);
      }
      throw EventsFileError(error.what(), false);
    }
  }
  std::function<std::optional<store::JobStatus>()> status;
  if (store_) {
    std::string jobId = selected.record ? selected.record->id : reader->description().jobId;
    status = [this, jobId]() -> std::optional<store::JobStatus> {
      auto row = store_->job(jobId);
      if (!row) return std::nullopt;
      return row->status;
    };
  }
  return makeJobEvents(std::move(reader), selected.eventsFile, std::move(status));
}

}  // namespace jobtape::recorder
