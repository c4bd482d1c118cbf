// The one spelling of a path that recipes, store rows and comparisons use:
// lexically normal ("a/./b/../c" is "a/c") and without a trailing '/'
// ("/" stays "/"). Lexical only: a symlink is not resolved, so what a
// person typed stays recognisable. Header-only, shared with store/ like
// fd_util.h.
#pragma once

#include <filesystem>
#include <system_error>

namespace jobtape::sandbox {

inline std::filesystem::path normalPath(const std::filesystem::path& path) {
  std::filesystem::path normal = path.lexically_normal();
  return normal.has_filename() ? normal : normal.parent_path();
}

// normalPath of `path` made absolute against the current directory (which
// it is when `path` is empty); empty with `error` set when there is no
// current directory any more.
inline std::filesystem::path absoluteNormalPath(const std::filesystem::path& path, std::error_code& error) {
  std::filesystem::path absolute =
      path.empty() ? std::filesystem::current_path(error) : std::filesystem::absolute(path, error);
  return error ? std::filesystem::path() : normalPath(absolute);
}

}  // namespace jobtape::sandbox
