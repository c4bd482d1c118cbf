#include "sandbox/state_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace jobtape::sandbox {

std::string stateDirName(const std::string& destination) {
  std::string name;
  for (size_t i = destination.empty() || destination[0] != '/' ? 0 : 1; i < destination.size(); ++i) {
    char c = destination[i];
    if (c == '%') {
      name += "%25";
    } else if (c == '/') {
      name += "%2F";
    } else {
      name += c;
    }
  }
  return name.empty() ? "%2F" : name;
}

namespace {

// 0 or errno.
int ensureDirectory(const std::filesystem::path& dir, bool mustBeEmpty) {
  std::error_code ec;
  if (::mkdir(dir.c_str(), 0755) == 0) return 0;
  if (errno != EEXIST) return errno;
  // A link is no directory of ours: it would make the mount land elsewhere.
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(dir, ec))) return ENOTDIR;
  if (mustBeEmpty && !std::filesystem::is_empty(dir, ec)) return ENOTEMPTY;
  return ec ? ec.value() : 0;
}

}  // namespace

StateDirs prepareStateDirs(const Recipe& recipe, const RunOptions& options) {
  StateDirs dirs;
  dirs.tmpfsSources.resize(recipe.mounts.size());
  if (options.stateDir.empty()) return dirs;
  const std::filesystem::path base = options.stateDir / "tmpfs";
  bool any = false;
  for (size_t i = 0; i < recipe.mounts.size(); ++i) {
    const Mount& m = recipe.mounts[i];
    if (m.kind != Mount::Kind::tmpfs) continue;
    if (!any) {
      any = true;
      std::error_code ec;
      std::filesystem::create_directories(base, ec);
      if (ec) {
        dirs.error = ec.value();
        dirs.failedPath = base.string();
        return dirs;
      }
    }
    std::filesystem::path dir = base / stateDirName(m.destination.empty() ? m.source : m.destination);
    if (int e = ensureDirectory(dir, !options.reuseState)) {
      dirs.error = e;
      dirs.failedPath = dir.string();
      return dirs;
    }
    dirs.tmpfsSources[i] = dir.string();
  }
  return dirs;
}

}  // namespace jobtape::sandbox
