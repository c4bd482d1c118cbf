// Fuzzes selector resolution against a real store holding a few jobs whose
// ids, recipe hashes and pids share prefixes (the ambiguous cases). A
// selector must resolve or be refused with a SelectorError; anything else
// escaping (a SQLite error, std::out_of_range from a parse) would reach the
// user as a crash or as foreign text.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "store/selector.h"
#include "store/sqlite_store.h"

namespace {

using namespace jobtape::store;

class FuzzStore {
 public:
  FuzzStore() {
    std::string pattern = (std::filesystem::temp_directory_path() / "jobtape-fuzz-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) std::abort();
    home_ = pattern;
    store_ = openSqliteStore(home_);
    const std::string buildId = store_->beginBuild(BuildStart{"make all", "/src/app", "fuzzhost", {}, {}});
    const int64_t project = store_->addProject(buildId, ProjectSpec{"projhash", "/src/app", ""});
    const char* ids[] = {"01JD4AAAAA0000000000000001", "01JD4AAAAB0000000000000002",
                         "01JD4BBBBB0000000000000003", "01JD5CCCCC0000000000000004"};
    const std::string recipes[] = {"ab12" + std::string(60, 'c'), "ab34" + std::string(60, 'd'),
                                   "1234" + std::string(60, 'e'), "ab12" + std::string(60, 'c')};
    const pid_t pids[] = {1234, 200, 200, 4242};
    for (int i = 0; i < 4; ++i) {
      JobStart start;
      start.buildId = buildId;
      start.buildProjectId = project;
      start.recipeHash = recipes[i];
      start.recipeMeta = "{}";
      start.command = "cc -c file" + std::to_string(i) + ".c";
      start.name = i % 2 ? "compile" : "link";
      start.pid = pids[i];
      start.localPath = store_->jobDir(ids[i]).string();
      store_->beginJob(ids[i], start);
      if (i == 3) continue;  // one job left running
      JobFinish finish;
      finish.result = i == 1 ? JobStatus::succeeded : JobStatus::failed;
      finish.exitCode = i == 1 ? 0 : 2;
      store_->finishJob(ids[i], finish);
    }
  }
  ~FuzzStore() {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(home_, ignored);
  }
  Store& store() { return *store_; }

 private:
  std::filesystem::path home_;
  std::unique_ptr<SqliteStore> store_;
};

FuzzStore& fuzzStore() {
  static FuzzStore store;
  return store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // argv cannot hold a NUL: what reaches the resolver ends at the first one.
  std::string text(reinterpret_cast<const char*>(data), size);
  text.resize(text.find('\0') == std::string::npos ? text.size() : text.find('\0'));
  const std::optional<std::string> selector =
      size == 0 ? std::nullopt : std::optional<std::string>(text);
  try {
    resolveSelector(&fuzzStore().store(), selector);
  } catch (const SelectorError&) {
  }
  try {
    resolveSelector(nullptr, selector);
  } catch (const SelectorError&) {
  }
  try {
    resolveBuildSelector(fuzzStore().store(), selector);
  } catch (const SelectorError&) {
  }
  return 0;
}
