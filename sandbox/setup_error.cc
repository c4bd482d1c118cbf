#include "sandbox/setup_error.h"

#include <cerrno>

#include <fmt/format.h>

namespace jobtape::sandbox {

namespace {

bool under(const std::string& path, const char* dir) {
  const std::string prefix = std::string(dir) + "/";
  return path.rfind(prefix, 0) == 0;
}

// Why a mount point could not be made, when the errno does not say it.
std::string mountPointReason(const std::string& destination, int error) {
  if (under(destination, "/proc") || under(destination, "/dev")) {
    return fmt::format("; {} is the sandbox's own {}, where nothing can be created: mount at a path that exists there",
                       destination, under(destination, "/proc") ? "/proc" : "/dev");
  }
  if (error == EROFS) {
    return "; it does not exist and its parent is a read-only bind of the host, where jobtape creates nothing: "
           "create it on the host, or mount it below a writable mount (the project, a --tmpfs)";
  }
  if (error == ENOTDIR) return "; a part of the path is a file inside the sandbox";
  return {};
}

std::string mountDetail(const Recipe& recipe, SetupStep step, int error, int index) {
  const Mount& m = recipe.mounts[static_cast<size_t>(index)];
  const std::string& destination = m.destination.empty() ? m.source : m.destination;
  std::string what = m.kind == Mount::Kind::tmpfs ? fmt::format("mounts[{}]: tmpfs on {}", index, destination)
                                                  : fmt::format("mounts[{}]: {} on {}", index, m.source, destination);
  if (step == SetupStep::bindSource && (error == ENOENT || error == ENOTDIR)) {
    what += fmt::format("; {} does not exist on the host", m.source);
  } else if (step == SetupStep::mountPoint) {
    what += mountPointReason(destination, error);
  } else if (step == SetupStep::homeOverlay) {
    // Most often the store's file system: overlayfs keeps what it knows of
    // the upper layer in user extended attributes (tmpfs has them only since
    // 6.6), and an overlay cannot be an upper layer.
    what += "; overlayfs refused the upper layer kept in the store (it needs a file system with user extended "
            "attributes, not an overlay itself): run with --no-home-overlay for a read-only home, or keep the "
            "store on another file system (--home DIR)";
  }
  return " (" + what + ")";
}

// The steps whose StageError::index is a recipe mount (for rlimits it is the
// resource).
bool isMountStep(SetupStep step) {
  switch (step) {
    case SetupStep::bindSource:
    case SetupStep::tmpfs:
    case SetupStep::mountPoint:
    case SetupStep::attachMount:
    case SetupStep::readOnly:
    case SetupStep::homeOverlay:
    case SetupStep::rootTmpfs: return true;
    default: return false;
  }
}

}  // namespace

std::string setupErrorDetail(const Recipe& recipe, SetupStep step, int error, int mountIndex) {
  if (isMountStep(step) && mountIndex >= 0 && static_cast<size_t>(mountIndex) < recipe.mounts.size()) {
    return mountDetail(recipe, step, error, mountIndex);
  }
  if (step == SetupStep::workDir) return fmt::format(" (work dir {})", recipe.workDir);
  return {};
}

}  // namespace jobtape::sandbox
