// The project a directory belongs to (jobtape::projectRoot in recorder.h).
#include <cstdlib>
#include <jobtape/recorder.h>
#include <system_error>

#include "sandbox/normal_path.h"

namespace jobtape {

namespace fs = std::filesystem;

namespace {

// A repository's top level: git (a .git directory, or a .git file in a
// worktree or submodule), Mercurial (.hg), or a directory marked .jobtape.
bool isProjectTop(const fs::path& dir) {
  std::error_code ec;
  for (const char* marker : {".git", ".hg", ".jobtape"}) {
    fs::file_status status = fs::status(dir / marker, ec);
    if (fs::is_directory(status) || fs::is_regular_file(status)) return true;
  }
  return false;
}

// Never a project found by walking up: the root, and $HOME (a home kept in
// git for its dotfiles is no project, and it holds the jobtape home).
bool isBoundary(const fs::path& dir) {
  if (dir == dir.root_path()) return true;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home != '/') return false;
  std::error_code ec;
  return fs::equivalent(dir, fs::path(home), ec);
}

}  // namespace

fs::path projectRoot(const fs::path& dir) {
  std::error_code ec;
  fs::path start = sandbox::absoluteNormalPath(dir, ec);
  if (ec) return dir;
  for (fs::path at = start; !at.empty(); at = at.parent_path()) {
    if (isBoundary(at)) break;
    if (isProjectTop(at)) return at;
    if (at == at.parent_path()) break;
  }
  return start;
}

}  // namespace jobtape
