// The boundary between the store's rows and the public records of
// <jobtape/inspect.h>: plain copies both ways, and the store's exceptions as
// the public error types.
#pragma once

#include <jobtape/inspect.h>

#include <string>
#include <vector>

#include "store/store.h"

namespace jobtape::recorder {

JobStatus toPublic(store::JobStatus status);
store::JobStatus toStore(JobStatus status);

JobRecord toPublic(const store::JobRow& row);
store::JobRow toStore(const JobRecord& record);
std::vector<JobRecord> toPublic(const std::vector<store::JobRow>& rows);

// `shortId` is left empty: it depends on every other build (BuildIdAbbreviator).
BuildRecord toPublic(const store::BuildRow& row);
store::BuildRow toStore(const BuildRecord& record);

ProjectRecord toPublic(const store::ProjectRow& row);
std::vector<ProjectRecord> toPublic(const std::vector<store::ProjectRow>& rows);

// Rethrows the current exception: the home's refusals as HomeError, a
// damaged row as DamagedRecordError, a selector's as SelectorError (its
// first line the message, the rest the candidates), SQLite's as Error
// (Kind::store), a recipe's, an events file's and a system error as theirs.
// Anything else (a jobtape::Error, what a caller's stream throws) as it is.
[[noreturn]] void rethrowAsPublicError();

// Runs `body`, with its exceptions made public as above.
template <typename Body>
auto publicErrors(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (...) {
    rethrowAsPublicError();
  }
}

}  // namespace jobtape::recorder
