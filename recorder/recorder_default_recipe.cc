// The default sandbox of `jobtape run -- COMMAND`.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <jobtape/recorder.h>
#include <string_view>

#include "recorder/absolute_directory.h"
#include "sandbox/normal_path.h"

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

bool within(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// Where the host's services listen on filesystem sockets by convention: a
// read-only view does not stop connect(), so these are shown as empty
// private directories (the docker socket, the system and user buses, the
// ssh and gpg agents under /run/user/UID). /var/run is usually a symlink to
// /run, which then leads to the private /run inside.
// The list is the one place that says which; README's "What the sandbox
// shows" follows it.
std::vector<std::string> runtimeDirectories() {
  std::vector<std::string> dirs;
  auto add = [&](std::string dir) {
    std::error_code ec;
    if (dir.empty() || dir.front() != '/') return;
    // A symlink (/var/run -> /run) counts as where it leads on the host;
    // the mount tree never follows one out of the new root anyway.
    if (fs::is_symlink(fs::symlink_status(dir, ec))) dir = fs::canonical(dir, ec).string();
    if (ec || dir == "/" || !fs::is_directory(fs::symlink_status(dir, ec))) return;
    for (const std::string& hidden : dirs) {
      if (within(dir, hidden)) return;
    }
    if (within(dir, "/tmp")) return;  // private already
    dirs.push_back(dir);
  };
  add("/run");
  add("/var/run");
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR")) add(sandbox::normalPath(xdg).string());
  return dirs;
}

// $HOME as the job sees it, when it is a directory other than /; else none.
std::string homeDirectory() {
  const char* home = std::getenv("HOME");
  if (!home || home[0] != '/') return {};
  std::string dir = sandbox::normalPath(home).string();
  std::error_code ec;
  if (dir == "/" || !fs::is_directory(dir, ec)) return {};
  return dir;
}

// The home overlay right after "/", so that a private directory inside the
// home (a runtime dir below it) stays private; after them when the home
// lies inside one of them (a home under /tmp), or it would be hidden.
void addHomeOverlay(Recipe& recipe, const std::string& home) {
  if (home.empty()) return;
  Mount overlay{Mount::Kind::homeOverlay, home, home};
  for (const Mount& m : recipe.mounts) {
    if (m.kind == Mount::Kind::tmpfs && within(home, m.destination)) {
      recipe.mounts.push_back(std::move(overlay));
      return;
    }
  }
  recipe.mounts.insert(recipe.mounts.begin() + 1, std::move(overlay));
}

}  // namespace

// Order matters: mounts apply in order, so the project bind comes after the
// private /tmp, the runtime directories and the home overlay and stays
// visible (the real, read-write directory) when the project lives under one
// of them.
Recipe defaultRecipe(std::string command, std::vector<std::string> args, fs::path projectDir,
                     fs::path workDir) {
  Recipe recipe;
  recipe.command = std::move(command);
  recipe.args = std::move(args);
  recipe.env = callerEnvironment();
  recipe.workDir = recorder::absoluteDirectory(workDir).string();
  std::string project = recorder::absoluteDirectory(projectDir).string();
  recipe.mounts.push_back({Mount::Kind::roBind, "/", "/"});
  recipe.mounts.push_back({Mount::Kind::tmpfs, "", "/tmp"});
  for (std::string& dir : runtimeDirectories()) recipe.mounts.push_back({Mount::Kind::tmpfs, "", std::move(dir)});
  addHomeOverlay(recipe, homeDirectory());
  if (project != "/") recipe.mounts.push_back({Mount::Kind::bind, project, project});
  recipe.network = false;
  return recipe;
}

}  // namespace jobtape
