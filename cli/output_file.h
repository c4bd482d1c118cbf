// Files the CLI writes on request (`build trace -o FILE`, `history --csv
// DIR`): missing parent directories are created, the text is written beside
// the target and renamed, so a reader never sees half a file.
#pragma once

#include <filesystem>
#include <string_view>

namespace jobtape::cli {

// Creates `dir` and its missing parents; a CliError naming it otherwise.
void makeOutputDirectory(const std::filesystem::path& dir);

// Writes `text` to `path` (its parent directories made as needed); a
// CliError naming the path otherwise.
void writeOutputFile(const std::filesystem::path& path, std::string_view text);

}  // namespace jobtape::cli
