// Resolves the short text that names a job on the command line.
//
//   (none) | failed   the most recent failed job
//   last              the most recent job
//   -N                the Nth most recent failed job
//   ULID prefix       job id prefix, case-insensitive Crockford base32
//   recipe-hash prefix  the most recent job of that recipe
//   PID               the most recent job with that pid
//   path              an events file, read without the database
//   job:X recipe:X pid:N   explicit forms
//   name:NAME         the most recent job of that name (`run --name`)
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>

#include "store/store.h"

namespace jobtape::store {

// A selector that names no job, or more than one. what() is the whole
// message, possibly several lines (git-style candidates list); the first
// line is the error, the rest are details.
class SelectorError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EventsFileSelection {
  std::filesystem::path path;
};

using Selection = std::variant<JobRow, EventsFileSelection>;

// Throws SelectorError. `store` may be null when no database exists; then
// only paths resolve and other forms say there are no jobs recorded.
Selection resolveSelector(Store* store, const std::optional<std::string>& selector);
// The job to follow (`job logs --follow`): the selector's, or without one the
// most recent running job, else the most recent failed one.
Selection resolveFollowSelector(Store* store, const std::optional<std::string>& selector);

// Builds: last | failed (the most recent top-level build: nested builds are
// part of their parent) | ULID prefix (same rules). Throws SelectorError.
BuildRow resolveBuildSelector(Store& store, const std::optional<std::string>& selector);

}  // namespace jobtape::store
