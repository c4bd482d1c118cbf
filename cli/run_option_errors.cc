#include "cli/run_option_errors.h"

#include <jobtape/text.h>

namespace jobtape::cli {

std::optional<std::string> RunOptionOrigins::optionFor(const std::string& field) const {
  if (auto it = fields_.find(field); it != fields_.end()) return it->second;
  const std::string mounts = "mounts[";
  if (!field.starts_with(mounts)) return std::nullopt;
  size_t end = field.find(']');
  if (end == std::string::npos) return std::nullopt;
  size_t index = 0;
  try {
    index = std::stoul(field.substr(mounts.size(), end - mounts.size()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (index >= mounts_.size() || mounts_[index].empty()) return std::nullopt;
  return mounts_[index];
}

std::string inOptionTerms(const Error& refusal, const RunOptionOrigins& origins) {
  std::string message = refusal.what();
  std::optional<std::string> option = origins.optionFor(refusal.field());
  // The library says `recipe field "F": WHAT`.
  const std::string prefix = "recipe field \"" + refusal.field() + "\": ";
  if (option && message.starts_with(prefix)) message = *option + ": " + message.substr(prefix.size());
  return escapeControl(message);
}

}  // namespace jobtape::cli
