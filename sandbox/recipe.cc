// Recipe validation and the recipe hash. The JSON form is in recipe_json.cc.
#include "sandbox/recipe.h"

#include <capnp/message.h>

#include <set>
#include <string_view>

#include "sandbox/recipe.capnp.h"
#include "sandbox/recipe_capnp.h"
#include "sandbox/sha256.h"

namespace jobtape::sandbox {
namespace {

[[noreturn]] void refuse(const std::string& field, const std::string& what) {
  throw RecipeError(field, "recipe field \"" + field + "\": " + what);
}

bool hasNul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

bool hasControl(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// "/a/./b//c/" -> "/a/b/c"; ".." is kept (and refused by the caller).
std::string normalised(std::string_view path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    if (!part.empty() && part != ".") out += "/" + std::string(part);
    i = end + 1;
  }
  return out.empty() ? "/" : out;
}

bool hasDotDot(std::string_view path) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(i, end - i) == "..") return true;
    i = end + 1;
  }
  return false;
}

enum class PathRule { absolute, normalisedAbsolute };

void checkPath(const std::string& field, const std::string& path, PathRule rule) {
  if (path.empty()) refuse(field, "must not be empty");
  if (hasNul(path)) refuse(field, "must not contain NUL bytes");
  if (path[0] != '/') refuse(field, "must be an absolute path (starting with \"/\"), not \"" + path + "\"");
  if (hasDotDot(path)) refuse(field, "must not contain \"..\" components: \"" + path + "\"");
  if (rule == PathRule::normalisedAbsolute && normalised(path) != path) {
    refuse(field, "must be a normalised path (no \".\", \"//\" or trailing \"/\"): write \"" +
                      normalised(path) + "\"");
  }
}

void checkNoNul(const std::string& field, const std::string& text) {
  if (hasNul(text)) refuse(field, "must not contain NUL bytes");
}

void checkVariables(const std::string& list, const std::vector<EnvVar>& vars, bool environment) {
  std::set<std::string> seen;
  for (size_t i = 0; i < vars.size(); ++i) {
    std::string field = list + "[" + std::to_string(i) + "]";
    const EnvVar& var = vars[i];
    if (var.name.empty()) refuse(field + ".name", "must not be empty");
    checkNoNul(field + ".name", var.name);
    if (environment && var.name.find('=') != std::string::npos) {
      refuse(field + ".name", "must not contain \"=\" (the value goes in \"value\")");
    }
    checkNoNul(field + ".value", var.value);
    if (!seen.insert(var.name).second) refuse(field + ".name", "\"" + var.name + "\" is given twice");
  }
}

void checkMounts(const std::vector<Mount>& mounts) {
  bool homeOverlay = false;
  for (size_t i = 0; i < mounts.size(); ++i) {
    std::string field = "mounts[" + std::to_string(i) + "]";
    const Mount& mount = mounts[i];
    bool bind = mount.kind != Mount::Kind::tmpfs;
    // One upper layer a job: a second overlay would share it.
    if (mount.kind == Mount::Kind::homeOverlay) {
      if (homeOverlay) refuse(field + ".kind", "a recipe has at most one homeOverlay mount");
      if (mount.source == "/" || mount.destination == "/") {
        refuse(field + ".source", "a homeOverlay mount is of a home directory, not of /");
      }
      homeOverlay = true;
    }
    if (bind || !mount.source.empty()) checkPath(field + ".source", mount.source, PathRule::absolute);
    // Empty destination: the same path as the source.
    if (!mount.destination.empty()) {
      checkPath(field + ".destination", mount.destination, PathRule::normalisedAbsolute);
    } else if (!bind && mount.source.empty()) {
      refuse(field + ".destination", "a tmpfs needs a destination");
    } else if (normalised(mount.source) != mount.source) {
      refuse(field + ".source", "doubles as the destination, so must be a normalised path: write \"" +
                                    normalised(mount.source) + "\"");
    }
  }
}

constexpr uint64_t kMaxTimeoutMs = 366ull * 24 * 3600 * 1000;  // a year: no ns overflow anywhere
constexpr uint64_t kMaxKillGraceMs = 3600ull * 1000;
constexpr uint64_t kMinMemoryBytes = 1ull << 20;
constexpr int64_t kMaxId = 4294967294;  // (uid_t)-1 is "no id"

void checkLimits(const Limits& limits) {
  if (limits.timeoutMs > kMaxTimeoutMs) refuse("limits.timeoutMs", "must be at most a year (31622400000)");
  if (limits.killGraceMs > kMaxKillGraceMs) refuse("limits.killGraceMs", "must be at most an hour (3600000)");
  if (limits.memoryBytes != 0 && limits.memoryBytes < kMinMemoryBytes) {
    refuse("limits.memoryBytes", "must be 0 (no limit) or at least 1 MiB (1048576)");
  }
  if (limits.maxOpenFiles != 0 && limits.maxOpenFiles < 3) {
    refuse("limits.maxOpenFiles", "must be 0 (inherited) or at least 3 (stdin, stdout, stderr)");
  }
}

void checkId(const char* field, int64_t id) {
  if (id != -1 && (id < 0 || id > kMaxId)) refuse(field, "must be -1 (the caller's) or 0..4294967294");
}

}  // namespace

void validateRecipe(const Recipe& recipe) {
  if (recipe.command.empty()) refuse("command", "is required (the program to run)");
  checkNoNul("command", recipe.command);
  for (size_t i = 0; i < recipe.args.size(); ++i) checkNoNul("args[" + std::to_string(i) + "]", recipe.args[i]);
  checkVariables("env", recipe.env, true);
  // Empty: the root directory.
  if (!recipe.workDir.empty()) checkPath("workDir", recipe.workDir, PathRule::absolute);
  checkMounts(recipe.mounts);
  checkNoNul("hostname", recipe.hostname);
  if (recipe.hostname.size() > 64) refuse("hostname", "must be at most 64 bytes long");
  checkLimits(recipe.limits);
  checkId("uid", recipe.uid);
  checkId("gid", recipe.gid);
  if (hasControl(recipe.name)) refuse("name", "must be one line without control characters");
  checkVariables("meta", recipe.meta, false);
  for (size_t i = 0; i < recipe.secretEnv.size(); ++i) {
    std::string field = "secretEnv[" + std::to_string(i) + "]";
    const std::string& name = recipe.secretEnv[i];
    if (name.empty()) refuse(field, "must not be empty");
    checkNoNul(field, name);
    if (name.find('=') != std::string::npos) refuse(field, "must be a variable name, without \"=\"");
  }
}

std::string recipeHash(const Recipe& recipe) {
  capnp::MallocMessageBuilder message;
  recipeToCapnp(recipe, message.initRoot<schema::Recipe>());
  kj::Array<capnp::word> canonical = capnp::canonicalize(message.getRoot<schema::Recipe>().asReader());
  auto bytes = canonical.asBytes();
  return sha256Hex({bytes.begin(), bytes.size()});
}

}  // namespace jobtape::sandbox
