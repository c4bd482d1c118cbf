// The Home of <jobtape/inspect.h> over the SQLite store: selectors,
// listings and builds answered from store/, the records converted at the
// boundary (public_records.h).
#pragma once

#include <jobtape/inspect.h>

#include <filesystem>
#include <memory>

#include "store/selector.h"
#include "store/store.h"

namespace jobtape::recorder {

class StoreHome final : public Home {
 public:
  // `store` is null when the home has no jobtape.db yet.
  StoreHome(std::filesystem::path path, std::unique_ptr<store::Store> store);

  // Null without a jobtape.db.
  store::Store* store() noexcept { return store_.get(); }

  const std::filesystem::path& path() const noexcept override { return path_; }
  bool hasStore() const noexcept override { return store_ != nullptr; }
  void markAbandoned() noexcept override;

  SelectedJob selectJob(const std::optional<std::string>& selector) override;
  SelectedJob selectJobToFollow(const std::optional<std::string>& selector) override;
  std::optional<JobRecord> recordOf(const SelectedJob& selected) override;
  std::optional<JobRecord> job(const std::string& jobId) override;
  JobListing jobs(const JobQuery& query) override;
  JobFiles files(const JobRecord& job) override;
  std::string shortId(const std::string& jobId) override;
  std::unique_ptr<JobEvents> events(const SelectedJob& selected) override;

  BuildRecord selectBuild(const std::optional<std::string>& selector) override;
  std::vector<BuildTree> builds(int limit) override;
  BuildTree buildTree(const BuildRecord& build) override;
  JobListing jobsOfBuild(const std::string& buildId) override;
  jobtape::FailureCheck checkFailures(int failures, const std::optional<std::string>& project) override;
  BuildTrace trace(const BuildRecord& build, int64_t nowUnixMs) override;
  std::vector<DayStats> history(std::optional<int64_t> sinceUnixMs) override;

 private:
  store::Store& requireStore();
  SelectedJob selected(const store::Selection& selection);
  // `rows` less the damaged ones, each said in `skipped`.
  JobListing withoutDamaged(std::vector<store::JobRow> rows);

  std::filesystem::path path_;
  std::unique_ptr<store::Store> store_;
};

// The StoreHome behind a Home that Home::open made. Throws Error
// (Kind::invalidArgument) for a Home of another kind.
StoreHome& storeHomeOf(Home& home);

}  // namespace jobtape::recorder
