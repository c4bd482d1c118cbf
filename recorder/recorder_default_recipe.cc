// The default sandbox of `jobtape run -- COMMAND`.
#include <unistd.h>

#include <cstring>
#include <jobtape/recorder.h>
#include <string_view>

namespace jobtape {

namespace fs = std::filesystem;

namespace {

// The recorder sets these for each job; a copy inherited from an enclosing
// job would name the wrong job (and change the recipe hash of nested runs).
bool isRecorderVariable(std::string_view name) {
  return name == "JOBTAPE_JOB_ID" || name == "JOBTAPE_HOME";
}

std::vector<EnvVar> callerEnvironment() {
  std::vector<EnvVar> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    auto equals = text.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    std::string_view name = text.substr(0, equals);
    if (isRecorderVariable(name)) continue;
    env.push_back({std::string(name), std::string(text.substr(equals + 1))});
  }
  return env;
}

fs::path absoluteDir(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = path.empty() ? fs::current_path(ec) : fs::absolute(path, ec);
  if (ec) throw Error(Error::Kind::io, "cannot resolve the directory " + path.string(), {}, ec);
  // Recipes want normalised paths: no ".", no trailing "/".
  absolute = absolute.lexically_normal();
  if (!absolute.has_filename() && absolute.has_relative_path()) absolute = absolute.parent_path();
  return absolute;
}

}  // namespace

// Order matters: mounts apply in order, so the project bind comes after the
// private /tmp and stays visible when the project lives under /tmp.
Recipe defaultRecipe(std::string command, std::vector<std::string> args, fs::path projectDir,
                     fs::path workDir) {
  Recipe recipe;
  recipe.command = std::move(command);
  recipe.args = std::move(args);
  recipe.env = callerEnvironment();
  recipe.workDir = absoluteDir(workDir).string();
  std::string project = absoluteDir(projectDir).string();
  recipe.mounts.push_back({Mount::Kind::roBind, "/", "/"});
  recipe.mounts.push_back({Mount::Kind::tmpfs, "", "/tmp"});
  if (project != "/") recipe.mounts.push_back({Mount::Kind::bind, project, project});
  recipe.network = false;
  return recipe;
}

}  // namespace jobtape
