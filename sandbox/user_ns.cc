#include "sandbox/user_ns.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

IdMapping IdMapping::forRecipe(const Recipe& recipe) {
  IdMapping mapping;
  mapping.outsideUid = ::geteuid();
  mapping.outsideGid = ::getegid();
  mapping.insideUid = recipe.uid >= 0 ? static_cast<uid_t>(recipe.uid) : mapping.outsideUid;
  mapping.insideGid = recipe.gid >= 0 ? static_cast<gid_t>(recipe.gid) : mapping.outsideGid;
  return mapping;
}

namespace {

// 0 or errno. The kernel wants the whole map in one write(2).
int writeProcFile(pid_t pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n < 0) return errno;
  return static_cast<size_t>(n) == text.size() ? 0 : EIO;
}

}  // namespace

IdMapFailure writeIdMaps(pid_t child, const IdMapping& m) {
  if (int e = writeProcFile(child, "setgroups", "deny"); e != 0 && e != ENOENT) {
    return {SetupStep::setgroups, e};
  }
  if (int e = writeProcFile(child, "gid_map", std::to_string(m.insideGid) + " " + std::to_string(m.outsideGid) + " 1\n")) {
    return {SetupStep::gidMap, e};
  }
  if (int e = writeProcFile(child, "uid_map", std::to_string(m.insideUid) + " " + std::to_string(m.outsideUid) + " 1\n")) {
    return {SetupStep::uidMap, e};
  }
  return {};
}

}  // namespace jobtape::sandbox
