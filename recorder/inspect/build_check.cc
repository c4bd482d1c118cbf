#include "recorder/inspect/build_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "recorder/inspect/build_overview.h"

namespace jobtape::recorder {

namespace fs = std::filesystem;

namespace {

// An abandoned build (its recorder went away) never succeeded.
bool failed(const store::BuildRow& build) {
  return build.result && (*build.result == "failed" || *build.result == "abandoned");
}

std::string canonicalOrEmpty(const std::string& path) {
  if (path.empty()) return {};
  std::error_code ec;
  auto canonical = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) return {};
  std::string text = canonical.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

// "01JD4X7Q, 01JD4X9Z and 2 more"
std::string listIds(const std::vector<std::string>& ids) {
  std::string text;
  size_t shown = std::min<size_t>(ids.size(), 5);
  for (size_t i = 0; i < shown; ++i) text += (i ? ", " : "") + ids[i];
  if (ids.size() > shown) text += fmt::format(" and {} more", ids.size() - shown);
  return text;
}

}  // namespace

bool projectMatches(const store::ProjectRow& row, const std::string& project) {
  if (project.empty()) return false;
  if (row.registryProjectName == project || row.localProjectPath == project) return true;
  if (row.localProjectPath.empty()) return false;
  auto wanted = canonicalOrEmpty(project);
  return !wanted.empty() && wanted == canonicalOrEmpty(row.localProjectPath);
}

bool FailureCheck::locked() const {
  return wanted > 0 && static_cast<int>(considered.size()) == wanted &&
         std::all_of(considered.begin(), considered.end(), failed);
}

std::string FailureCheck::verdict() const {
  std::string scope = project ? " of " + *project : std::string();
  if (considered.empty()) return fmt::format("no finished builds{} recorded: not locked", scope);
  std::vector<std::string> ids;
  for (const auto& build : considered) ids.push_back(build.id.substr(0, store::kShortIdLength));
  if (locked()) {
    return fmt::format("the last {} build{}{} all failed ({})", wanted, wanted == 1 ? "" : "s", scope,
                       listIds(ids));
  }
  if (static_cast<int>(considered.size()) < wanted) {
    return fmt::format("only {} finished build{}{} recorded, fewer than {}: not locked", considered.size(),
                       considered.size() == 1 ? "" : "s", scope, wanted);
  }
  auto good = std::find_if(considered.begin(), considered.end(), [](const auto& b) { return !failed(b); });
  if (wanted == 1) return fmt::format("ok: the last build{} {} ({})", scope, good->result.value_or("?"), good->id.substr(0, 10));
  return fmt::format("ok: the last {} builds{} did not all fail ({} {})", wanted, scope, good->id.substr(0, 10),
                     good->result.value_or("?"));
}

FailureCheck checkRecentFailures(store::Store& store, int failures, const std::optional<std::string>& project) {
  if (failures < 1) throw std::invalid_argument("the number of failures must be at least 1");
  FailureCheck check;
  check.wanted = failures;
  check.project = project;
  for (const auto& build : store.builds(0)) {
    if (static_cast<int>(check.considered.size()) >= failures) break;
    if (!build.result) continue;  // still running: maybe the build doing the check
    if (project) {
      auto projects = store.projects(build.id);
      if (std::none_of(projects.begin(), projects.end(), [&](const auto& p) { return projectMatches(p, *project); }))
        continue;
    } else if (build.parentJobId) {
      continue;
    }
    check.considered.push_back(build);
  }
  return check;
}

}  // namespace jobtape::recorder
