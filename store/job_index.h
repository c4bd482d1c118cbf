// Index lookups behind selectors: each answers with one or two index seeks,
// whatever the size of the store. Implemented by the SQLite store; a Store
// that does not implement JobIndex cannot resolve database selectors.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace jobtape::store {

enum class JobKind {
  any,
  failed,  // failed or abandoned
};

class JobIndex {
 public:
  virtual ~JobIndex() = default;

  // The job `offset` places behind the most recent one of its kind (0: the
  // most recent).
  virtual std::optional<JobRow> recentJob(JobKind kind, int64_t offset) = 0;
  virtual int64_t countJobs(JobKind kind) = 0;
  // The most recent job still running (no result, its recorder not gone).
  virtual std::optional<JobRow> recentRunningJob() = 0;
  // Jobs whose id starts with `prefix` (canonical upper case), oldest first.
  virtual std::vector<JobRow> jobsWithIdPrefix(const std::string& prefix, int limit) = 0;
  // Distinct recipe hashes starting with `prefix` (lower-case hex), sorted.
  virtual std::vector<std::string> recipeHashesWithPrefix(const std::string& prefix, int limit) = 0;
  virtual std::optional<JobRow> recentJobOfRecipe(const std::string& recipeHash) = 0;
  virtual std::optional<JobRow> recentJobWithPid(pid_t pid) = 0;
  // The most recent job given that name (JobOptions::name, `run --name`).
  virtual std::optional<JobRow> recentJobNamed(const std::string& name) = 0;
  virtual std::optional<BuildRow> recentBuild(JobKind kind) = 0;
  virtual std::vector<BuildRow> buildsWithIdPrefix(const std::string& prefix, int limit) = 0;
};

}  // namespace jobtape::store
