#include "store/job_dir.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include "sandbox/normal_path.h"
#include "store/home_safety.h"
#include "store/ulid.h"

namespace jobtape::store {

namespace fs = std::filesystem;

namespace {

// Ids and paths from the database reach a terminal in messages.
std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text.substr(0, 200)) {
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

bool isSymlink(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

}  // namespace

fs::path jobDirectory(const fs::path& home, const std::string& id) {
  if (!isUlid(id)) {
    throw DamagedJobRow(fmt::format("a job row in {} is damaged: its id '{}' is not a ULID", (home / kDatabaseName).string(),
                                    printable(id)));
  }
  return home / kJobsDirName / id;
}

std::optional<std::string> jobRowDamage(const fs::path& home, const JobRow& row) {
  if (!isUlid(row.id)) return fmt::format("its id '{}' is not a ULID", printable(row.id));
  fs::path dir = home / kJobsDirName / row.id;
  // Lexically, or the same directory by another spelling of the home (a
  // symlink to it); the path used is always `dir`, never the recorded one.
  std::error_code ec;
  if (!row.localPath.empty() && sandbox::normalPath(row.localPath) != sandbox::normalPath(dir) &&
      !(fs::path(row.localPath).is_absolute() && fs::equivalent(row.localPath, dir, ec))) {
    return fmt::format("its directory '{}' is not {}", printable(row.localPath), dir.string());
  }
  if (isSymlink(home / kJobsDirName) || isSymlink(dir)) {
    return fmt::format("its directory {} is reached through a symbolic link", dir.string());
  }
  return std::nullopt;
}

fs::path jobDirectoryOf(const fs::path& home, const JobRow& row) {
  if (auto damage = jobRowDamage(home, row)) {
    throw DamagedJobRow(fmt::format("job {} in {} is damaged: {}", printable(row.id), (home / kDatabaseName).string(),
                                    *damage));
  }
  return home / kJobsDirName / row.id;
}

}  // namespace jobtape::store
