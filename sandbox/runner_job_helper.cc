// Runs one command in the default sandbox (the host's / read-only, a private
// /tmp) through sandbox::run and exits with its RunResult::exitCode. The
// runner tests use it where the run must happen in a process of its own: to
// SIGKILL the supervisor mid-run, or to give it a terminal.
//
//   runner_job_helper [--stdio=capture|inherit|terminal] [--no-sandbox] -- COMMAND [ARGS...]
//
// Captured output is copied to its own stdout/stderr as it comes; the outcome
// goes to stderr as the last line ("runner_job_helper: OUTCOME exit=N").
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "sandbox/runner.h"

namespace {

using namespace jobtape::sandbox;

class CopyingObserver : public RunObserver {
 public:
  void onOutput(Stream stream, uint64_t, std::span<const char> bytes) override {
    [[maybe_unused]] ssize_t n = ::write(stream == Stream::stdout_ ? 1 : 2, bytes.data(), bytes.size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  RunOptions options;
  jobtape::Recipe recipe;
  recipe.mounts = {{jobtape::Mount::Kind::roBind, "/", "/"}, {jobtape::Mount::Kind::tmpfs, "", "/tmp"}};
  // A build tree under /tmp would be hidden by the private /tmp: bind it back.
  std::string buildDir = std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
  if (buildDir.starts_with("/tmp/")) recipe.mounts.push_back({jobtape::Mount::Kind::roBind, buildDir, buildDir});
  recipe.env = {{"PATH", "/usr/bin:/bin"}, {"TERM", "xterm"}};
  recipe.workDir = "/";
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    std::string arg = argv[i];
    if (arg == "--stdio=inherit") options.stdio = StdioMode::inherit;
    else if (arg == "--stdio=terminal") options.stdio = StdioMode::terminal;
    else if (arg == "--no-sandbox") recipe.sandboxed = false;
  }
  if (i + 1 >= argc) {
    std::fprintf(stderr, "usage: runner_job_helper [OPTIONS] -- COMMAND [ARGS...]\n");
    return 2;
  }
  recipe.command = argv[i + 1];
  recipe.args.assign(argv + i + 2, argv + argc);
  CopyingObserver observer;
  RunResult result = run(recipe, options, observer);
  std::fprintf(stderr, "runner_job_helper: %s exit=%d %s\n", outcomeName(result.outcome), result.exitCode,
               result.message.c_str());
  return result.exitCode;
}
