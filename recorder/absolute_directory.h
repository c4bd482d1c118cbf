// The directories a caller names (a project, a build's cwd, a job's work
// dir) as the front records them: absolute and in normalPath's spelling.
#pragma once

#include <filesystem>
#include <jobtape/error.h>
#include <system_error>

#include "sandbox/normal_path.h"

namespace jobtape::recorder {

// The current directory when `path` is empty. Throws Error (Kind::io) when
// it cannot be resolved (the current directory was removed).
inline std::filesystem::path absoluteDirectory(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::path absolute = sandbox::absoluteNormalPath(path, error);
  if (error) throw Error(Error::Kind::io, "cannot resolve the directory " + path.string(), {}, error);
  return absolute;
}

}  // namespace jobtape::recorder
