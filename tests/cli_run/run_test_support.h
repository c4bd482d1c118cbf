// Helpers for the tests of `jobtape run`: a jobtape process we can talk to
// while it runs (lines as they arrive, signals), host process lookups and the
// store behind a home directory.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {

struct ArrivedLine {
  std::string text;
  std::chrono::steady_clock::time_point at;
};

// `jobtape --home HOME ARGS...` running in the background; its stdout and
// stderr are read line by line, each line stamped with its arrival time.
class LiveJobtape {
 public:
  LiveJobtape(const std::filesystem::path& home, const std::vector<std::string>& args,
              const std::optional<std::filesystem::path>& cwd = std::nullopt);
  // options: env, unsetEnv, cwd and asUser apply; stdin is /dev/null.
  LiveJobtape(const std::filesystem::path& home, const std::vector<std::string>& args,
              const ProcessOptions& options);
  // Any program: argv[0] is its path.
  LiveJobtape(std::vector<std::string> argv, const ProcessOptions& options);
  ~LiveJobtape();  // kills it if still running
  LiveJobtape(const LiveJobtape&) = delete;
  LiveJobtape& operator=(const LiveJobtape&) = delete;

  pid_t pid() const;
  // Waits for a stdout line equal to `text`; false on timeout or EOF.
  bool waitForStdoutLine(const std::string& text,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void signal(int signal);
  // Exit status (128+N for a signal), nullopt if still running at the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Everything read so far (complete after wait() returned a status).
  std::vector<ArrivedLine> stdoutLines();
  std::string stdoutText();
  std::string stderrText();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Like runJobtape() from jobtape_process.h, but reads the exit status
// without racing Boost.Process's SIGCHLD handling (stdin is /dev/null).
ProcessResult runJobtapeToEnd(const std::filesystem::path& home, const std::vector<std::string>& args,
                              const ProcessOptions& options = {});
ProcessResult runProgramToEnd(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Pids of host processes whose argv contains `word` as one argument.
std::vector<pid_t> hostProcessesWithArgument(const std::string& word);
// Polls until no host process has `word` as an argument; false at the timeout.
bool waitUntilNoProcessWithArgument(const std::string& word,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A word no other process on the machine carries: "1000.<pid><counter>",
// usable as `sleep`'s argument.
std::string uniqueSleepSeconds();

std::unique_ptr<store::Store> openStoreAt(const std::filesystem::path& home);
// The only job of the store; fails the test if there is not exactly one.
store::JobRow onlyJob(const std::filesystem::path& home);

std::vector<std::string> splitLines(const std::string& text);
void writeFile(const std::filesystem::path& path, const std::string& text);
std::string readFile(const std::filesystem::path& path);

}  // namespace jobtape::testing
