#include "recorder/home_layer.h"

#include <algorithm>

#include "recorder/job_files.h"
#include "recorder/recorder_store.h"

namespace jobtape::recorder {

std::string homeLayerKey(const std::string& projectHash) {
  return store::isHomeLayerKey(projectHash) ? projectHash : sha256Hex(projectHash);
}

std::string defaultProjectHash(const std::string& pathOrName) { return sha256Hex(pathOrName); }

std::optional<store::HomeLayerLease> takeHomeLayer(const std::filesystem::path& home, const Recipe& recipe,
                                                   const std::string& projectHash) {
  bool overlay = std::any_of(recipe.mounts.begin(), recipe.mounts.end(),
                             [](const Mount& m) { return m.kind == Mount::Kind::homeOverlay; });
  if (!recipe.sandboxed || !overlay) return std::nullopt;
  try {
    return store::acquireHomeLayer(home, homeLayerKey(projectHash));
  } catch (...) {
    rethrowAsStoreError();
  }
}

sandbox::HomeLayers homeLayersOf(const std::optional<store::HomeLayerLease>& lease) {
  if (!lease) return {};
  return {lease->upper().string(), lease->work().string()};
}

}  // namespace jobtape::recorder
