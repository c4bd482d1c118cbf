// Drives the real `jobtape` binary from tests (Boost.Process).
//
// The binary's path comes from $JOBTAPE_BINARY (set by meson for every test
// in tests/). Each test gets its own home directory so runs never share a
// store.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace jobtape::testing {

struct ProcessResult {
  int exitStatus = -1;  // exit code, or 128+signal
  std::string out;
  std::string err;
  bool timedOut = false;
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
  std::vector<std::string> unsetEnv;
  std::optional<std::filesystem::path> cwd;
  std::string stdinText;
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  // Run as this user (e.g. "nobody") through setpriv; empty = as we are.
  std::string asUser;
};

std::filesystem::path jobtapeBinary();

// Runs any program (no shell) and collects its output.
ProcessResult runProgram(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Runs `jobtape --home HOME ARGS...`.
ProcessResult runJobtape(const std::filesystem::path& home, const std::vector<std::string>& args,
                         ProcessOptions options = {});

// A fresh directory under $TMPDIR removed at the end of the test; world
// readable/writable so an unprivileged test user can use it too.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A store's home for one test: a directory inside a fresh TempDir, made by
// the first `jobtape` that uses it (0700, owned by whoever ran it). jobtape
// refuses a home others can write, which a TempDir is.
class TempHome {
 public:
  TempHome() : path_(dir_.path() / "home") {}
  const std::filesystem::path& path() const { return path_; }

 private:
  TempDir dir_;
  std::filesystem::path path_;
};

// The build tree ($JOBTAPE_BUILD_ROOT, set by meson), where probe programs
// are; empty when unset.
std::filesystem::path buildTree();

// `jobtape run` options that show the build tree (its probe programs) to a
// job: --ro-bind of it when it lies under /tmp, which the default sandbox
// makes private; nothing otherwise. From $JOBTAPE_BUILD_ROOT (set by meson).
std::vector<std::string> buildTreeBinds();

// True when running as root (CI): tests then also run the unprivileged path
// as `nobody` through setpriv.
bool runningAsRoot();

}  // namespace jobtape::testing
