#include "recorder/job_files.h"

#include <sys/stat.h>

#include <cerrno>
#include <jobtape/recorder.h>
#include <system_error>

#include "sandbox/sha256.h"
#include "store/spare_state.h"
#include "store/tree_removal.h"
#include "store/job_dir.h"

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

JobFiles createJobFiles(const fs::path& home, const fs::path& jobDir) {
  std::error_code ec;
  fs::create_directories(jobDir.parent_path(), ec);
  if (ec) {
    throw Error(Error::Kind::io, "cannot create " + jobDir.parent_path().string() + ": " + ec.message(),
                {}, ec);
  }
  makePrivateDir(jobDir);
  JobFiles files{jobDir, store::eventsFileIn(jobDir), store::stateDirIn(jobDir)};
  if (!store::takeSpareState(home, jobDir)) makePrivateDir(files.stateDir);
  return files;
}

bool removeStateTree(const fs::path& stateDir) noexcept {
  try {
    store::removeTree(stateDir);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool dropStateTree(const fs::path& home, const JobFiles& files, const std::string& jobId) noexcept {
  return store::giveBackState(home, files.stateDir, jobId) || removeStateTree(files.stateDir);
}

std::string sha256Hex(const std::string& text) {
  return sandbox::sha256Hex({reinterpret_cast<const unsigned char*>(text.data()), text.size()});
}

}  // namespace jobtape::recorder
