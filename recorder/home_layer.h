// Which kept upper layer a job's home overlay gets: the recorder's half of
// Mount::Kind::homeOverlay. The recipe names only the host's directory; the
// layer is the project's, in the store (store/home_layers.h), so the recipe
// hash is the same in every store and a retry or debug-shell of the job gets
// the layer of its project again.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <jobtape/recipe.h>

#include "sandbox/runner.h"
#include "store/home_layers.h"

namespace jobtape::recorder {

// The directory name of a project's layers: its hash when that is one of
// ours (SHA-256 hex), else the SHA-256 of whatever an embedder gave.
std::string homeLayerKey(const std::string& projectHash);
// The hash Build::addProject gives a project of this local path (absolute,
// normalised) or registry name when its caller gives none.
std::string defaultProjectHash(const std::string& pathOrName);

// A slot of the project's layer, held until the lease is destroyed, when
// `recipe` runs sandboxed with a homeOverlay mount; else nothing. Throws
// jobtape::Error (Kind::store; HomeError for what is unsafe).
std::optional<store::HomeLayerLease> takeHomeLayer(const std::filesystem::path& home, const Recipe& recipe,
                                                   const std::string& projectHash);

// What the sandbox is given of a lease (empty without one).
sandbox::HomeLayers homeLayersOf(const std::optional<store::HomeLayerLease>& lease);

}  // namespace jobtape::recorder
