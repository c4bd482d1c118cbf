// Shared pieces of the runner tests: recipes around runner_test_helper, an
// observer that keeps everything, temporary directories, /proc scans.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/runner.h"

namespace jobtape::sandbox::testing {

// Beside the test binary in the build tree.
inline std::string helperPath(const char* name = "runner_test_helper") {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / name).string();
}

// A build tree under /tmp would be hidden by the private /tmp: bind it back
// (after the tmpfs) so the helper programs stay reachable.
inline void keepBuildTreeVisible(Recipe& recipe) {
  std::string dir = std::filesystem::path(helperPath()).parent_path().string();
  if (dir == "/tmp" || dir.starts_with("/tmp/")) recipe.mounts.push_back({Mount::Kind::roBind, dir, dir});
}

// The default view of `jobtape run`: the host's / read-only, a private /tmp.
inline Recipe helperRecipe(std::vector<std::string> args) {
  Recipe r;
  r.command = helperPath();
  r.args = std::move(args);
  r.env = {{"PATH", "/usr/bin:/bin"}};
  r.workDir = "/";
  r.mounts = {{Mount::Kind::roBind, "/", "/"}, {Mount::Kind::tmpfs, "", "/tmp"}};
  keepBuildTreeVisible(r);
  return r;
}

struct Chunk {
  Stream stream;
  uint64_t elapsedNs;
  std::string bytes;
};

class CollectingObserver : public RunObserver {
 public:
  void onStarted(pid_t pid) override { startedPid = pid; }
  void onOutput(Stream stream, uint64_t elapsedNs, std::span<const char> bytes) override {
    chunks.push_back({stream, elapsedNs, std::string(bytes.begin(), bytes.end())});
  }
  void onExec(const ExecRecord& exec) override { execs.push_back(exec); }
  void onTracingIncomplete(const TracingShortfall& s) override { shortfalls.push_back(s); }
  std::string text(Stream stream) const {
    std::string out;
    for (const Chunk& c : chunks) {
      if (c.stream == stream) out += c.bytes;
    }
    return out;
  }
  std::string out() const { return text(Stream::stdout_); }
  std::string err() const { return text(Stream::stderr_); }
  std::vector<std::string> outLines() const {
    std::vector<std::string> lines;
    std::istringstream in(out());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  pid_t startedPid = 0;
  std::vector<Chunk> chunks;
  std::vector<ExecRecord> execs;
  std::vector<TracingShortfall> shortfalls;
};

// A fresh directory under $TMPDIR (or /tmp), removed at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/jobtape-runner-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Host pids of processes whose command line contains `marker`.
inline std::vector<pid_t> processesWithMarker(const std::string& marker) {
  std::vector<pid_t> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (struct dirent* e = readdir(proc)) {
    std::string name = e->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = readFile("/proc/" + name + "/cmdline");
    if (cmdline.find(marker) != std::string::npos && std::stoi(name) != getpid()) found.push_back(std::stoi(name));
  }
  closedir(proc);
  return found;
}

inline std::string uniqueMarker(const char* what) {
  return std::string("jobtape-marker-") + what + "-" + std::to_string(getpid()) + "-" + std::to_string(rand());
}

}  // namespace jobtape::sandbox::testing
