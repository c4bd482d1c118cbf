#include "recorder/job_files.h"

#include <sys/stat.h>

#include <cerrno>
#include <jobtape/recorder.h>
#include <system_error>

#include "sandbox/sha256.h"

namespace jobtape::recorder {

namespace fs = std::filesystem;

namespace {

void makePrivateDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    int error = errno;
    throw Error(Error::Kind::io, "cannot create the job directory " + dir.string(), {},
                std::error_code(error, std::generic_category()));
  }
}

}  // namespace

JobFiles createJobFiles(const fs::path& jobDir) {
  std::error_code ec;
  fs::create_directories(jobDir.parent_path(), ec);
  if (ec) {
    throw Error(Error::Kind::io, "cannot create " + jobDir.parent_path().string() + ": " + ec.message(),
                {}, ec);
  }
  makePrivateDir(jobDir);
  JobFiles files{jobDir, jobDir / "events.bin.zst", jobDir / "state"};
  makePrivateDir(files.stateDir);
  return files;
}

bool removeStateTree(const fs::path& stateDir) noexcept {
  std::error_code ec;
  fs::remove_all(stateDir, ec);
  if (!ec) return true;
  // Directories without write or search permission: open them up and retry.
  ::chmod(stateDir.c_str(), 0700);
  for (auto it = fs::recursive_directory_iterator(stateDir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
  }
  ec.clear();
  fs::remove_all(stateDir, ec);
  return !ec;
}

std::string sha256Hex(const std::string& text) {
  return sandbox::sha256Hex({reinterpret_cast<const unsigned char*>(text.data()), text.size()});
}

}  // namespace jobtape::recorder
