#include <cstdlib>

#include "store/store.h"

namespace jobtape::store {

std::filesystem::path resolveHome(const std::optional<std::filesystem::path>& homeOption) {
  if (homeOption && !homeOption->empty()) return std::filesystem::absolute(*homeOption);
  if (const char* env = std::getenv("JOBTAPE_HOME"); env && *env) {
    return std::filesystem::absolute(env);
  }
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state) {
    return std::filesystem::path(state) / "jobtape";
  }
  const char* home = std::getenv("HOME");
  if (!home || !*home) home = "/";
  return std::filesystem::path(home) / ".local" / "state" / "jobtape";
}

}  // namespace jobtape::store
