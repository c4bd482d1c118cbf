// The finish record of a job's events file as the store's JobFinish: what a
// job whose recorder died after writing that record, but before finishing
// the job's row, ended with (store::FinishRecovery).
#pragma once

#include <filesystem>
#include <optional>

#include "store/store.h"

namespace jobtape::recorder {

// Reads jobDir/events.bin.zst to its end (or its damage); nullopt when it
// holds no finish record or is not an events file. Never throws.
std::optional<store::JobFinish> finishRecordedIn(const std::filesystem::path& jobDir) noexcept;

}  // namespace jobtape::recorder
