// The files of one job on the host: home/jobs/<ULID>/ with events.bin.zst
// and state/ (the sandbox's writable state, kept for failed jobs).
#pragma once

#include <filesystem>
#include <string>

namespace jobtape::recorder {

struct JobFiles {
  std::filesystem::path dir;
  std::filesystem::path eventsFile;
  std::filesystem::path stateDir;
};

// Creates dir (0700; parents as needed) and its state/: a spare one of
// `home` (store/spare_state.h) or an empty one. Throws jobtape::Error
// (Kind::io) naming the path.
JobFiles createJobFiles(const std::filesystem::path& home, const std::filesystem::path& jobDir);

// Removes a job's state tree, whatever the job made of it (store/
// tree_removal.h: read-only directories, depth, links never followed).
// Returns false if something could not be removed.
bool removeStateTree(const std::filesystem::path& stateDir) noexcept;

// The state tree of a job that is over and keeps none: given back to the
// spares of `home` when it is as the sandbox made it, else removed. False
// if something could not be removed.
bool dropStateTree(const std::filesystem::path& home, const JobFiles& files, const std::string& jobId) noexcept;

// Lowercase hex SHA-256 of `text`.
std::string sha256Hex(const std::string& text);

}  // namespace jobtape::recorder
