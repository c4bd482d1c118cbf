#include "recorder/inspect/public_records.h"

#include <stdexcept>
#include <system_error>

#include "recorder/events/event_reader.h"
#include "sandbox/recipe.h"
#include "store/selector.h"

namespace jobtape::recorder {

JobStatus toPublic(store::JobStatus status) {
  switch (status) {
    case store::JobStatus::running: return JobStatus::running;
    case store::JobStatus::succeeded: return JobStatus::succeeded;
    case store::JobStatus::failed: return JobStatus::failed;
    case store::JobStatus::abandoned: return JobStatus::abandoned;
  }
  return JobStatus::failed;
}

store::JobStatus toStore(JobStatus status) {
  switch (status) {
    case JobStatus::running: return store::JobStatus::running;
    case JobStatus::succeeded: return store::JobStatus::succeeded;
    case JobStatus::failed: return store::JobStatus::failed;
    case JobStatus::abandoned: return store::JobStatus::abandoned;
  }
  return store::JobStatus::failed;
}

JobRecord toPublic(const store::JobRow& row) {
  JobRecord record;
  record.id = row.id;
  record.buildId = row.buildId;
  record.buildProjectId = row.buildProjectId;
  record.projectPath = row.projectPath;
  record.startedAtMs = row.startedAtMs;
  record.stoppedAtMs = row.stoppedAtMs;
  record.status = toPublic(row.status);
  record.exitCode = row.exitCode;
  record.signal = row.signal;
  record.outcome = row.outcome;
  record.recipeHash = row.recipeHash;
  record.recipeMeta = row.recipeMeta;
  record.command = row.command;
  record.name = row.name;
  record.pid = row.pid;
  record.recorderPid = row.recorderPid;
  record.localPath = row.localPath;
  record.heartbeatAtMs = row.heartbeatAtMs;
  record.rusage = row.rusage;
  record.stateKept = row.stateKept;
  return record;
}

store::JobRow toStore(const JobRecord& record) {
  store::JobRow row;
  row.id = record.id;
  row.buildId = record.buildId;
  row.buildProjectId = record.buildProjectId;
  row.projectPath = record.projectPath;
  row.startedAtMs = record.startedAtMs;
  row.stoppedAtMs = record.stoppedAtMs;
  row.status = toStore(record.status);
  row.exitCode = record.exitCode;
  row.signal = record.signal;
  row.outcome = record.outcome;
  row.recipeHash = record.recipeHash;
  row.recipeMeta = record.recipeMeta;
  row.command = record.command;
  row.name = record.name;
  row.pid = record.pid;
  row.recorderPid = record.recorderPid;
  row.localPath = record.localPath;
  row.heartbeatAtMs = record.heartbeatAtMs;
  row.rusage = record.rusage;
  row.stateKept = record.stateKept;
  return row;
}

std::vector<JobRecord> toPublic(const std::vector<store::JobRow>& rows) {
  std::vector<JobRecord> records;
  records.reserve(rows.size());
  for (const auto& row : rows) records.push_back(toPublic(row));
  return records;
}

BuildRecord toPublic(const store::BuildRow& row) {
  BuildRecord record;
  record.id = row.id;
  record.startedAtMs = row.startedAtMs;
  record.stoppedAtMs = row.stoppedAtMs;
  record.result = row.result;
  record.commandLine = row.commandLine;
  record.cwd = row.cwd;
  record.host = row.host;
  record.parentJobId = row.parentJobId;
  record.retryOf = row.retryOf;
  return record;
}

store::BuildRow toStore(const BuildRecord& record) {
  store::BuildRow row;
  row.id = record.id;
  row.startedAtMs = record.startedAtMs;
  row.stoppedAtMs = record.stoppedAtMs;
  row.result = record.result;
  row.commandLine = record.commandLine;
  row.cwd = record.cwd;
  row.host = record.host;
  row.parentJobId = record.parentJobId;
  row.retryOf = record.retryOf;
  return row;
}

ProjectRecord toPublic(const store::ProjectRow& row) {
  return {row.id, row.buildId, row.projectHash, row.localProjectPath, row.registryProjectName};
}

std::vector<ProjectRecord> toPublic(const std::vector<store::ProjectRow>& rows) {
  std::vector<ProjectRecord> records;
  records.reserve(rows.size());
  for (const auto& row : rows) records.push_back(toPublic(row));
  return records;
}

namespace {

// The store's selector message: the error line, then the candidates.
[[noreturn]] void throwSelectorError(const std::string& message) {
  auto newline = message.find('\n');
  std::vector<std::string> candidates;
  for (size_t start = newline; start != std::string::npos && start + 1 < message.size();) {
    size_t end = message.find('\n', start + 1);
    candidates.push_back(message.substr(start + 1, end == std::string::npos ? end : end - start - 1));
    start = end;
  }
  throw SelectorError(message.substr(0, newline), std::move(candidates));
}

}  // namespace

void rethrowAsPublicError() {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const store::StoreUnsafeError& error) {
    throw HomeError(HomeError::Reason::unsafe, error.what(), error.hint(), std::current_exception());
  } catch (const store::StoreDamagedError& error) {
    throw HomeError(HomeError::Reason::damaged, error.what(), error.hint(), std::current_exception());
  } catch (const store::StoreOpenError& error) {
    throw HomeError(HomeError::Reason::unusable, error.what(), {}, std::current_exception());
  } catch (const store::DamagedJobRow& error) {
    throw DamagedRecordError(error.what());
  } catch (const store::SelectorError& error) {
    throwSelectorError(error.what());
  } catch (const store::SqliteError& error) {
    throw Error(Error::Kind::store, error.what(), {}, {}, std::current_exception());
  } catch (const sandbox::RecipeError& error) {
    throw Error(Error::Kind::recipe, error.what(), error.field(), {}, std::current_exception());
  } catch (const NotAnEventsFile& error) {
    throw EventsFileError(error.what(), false);
  } catch (const std::invalid_argument& error) {
    throw Error(Error::Kind::invalidArgument, error.what(), {}, {}, std::current_exception());
  } catch (const std::system_error& error) {
    throw Error(Error::Kind::io, error.what(), {}, error.code(), std::current_exception());
  }
}

}  // namespace jobtape::recorder
