// Shared by the tests of `job debug-shell`, `job retry`, `build ...`,
// `history` and `gc`: a scratch home and project, recording jobs through the
// real binary (as the caller, and as `nobody` when the tests run as root),
// reading the store the binary wrote, and driving the binary on a pty.
#pragma once

#include <sys/types.h>
#include <termios.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {

// "" (as we are) and, when we are root, "nobody": the sandbox must work
// unprivileged too.
std::vector<std::string> usersToTest();
std::string userLabel(const std::string& asUser);  // for test names: "caller" | "nobody"

class ActionsHome {
 public:
  explicit ActionsHome(std::string asUser = {});

  const std::filesystem::path& home() const { return home_; }
  const std::filesystem::path& project() const { return project_; }
  const std::filesystem::path& scratch() const { return dir_.path(); }
  const std::string& asUser() const { return asUser_; }

  // `jobtape --home HOME ARGS...` as the test's user, in the project dir.
  ProcessResult jobtape(const std::vector<std::string>& args, ProcessOptions options = {}) const;
  // `jobtape run --project PROJECT -- sh -c SCRIPT`
  ProcessResult record(const std::string& script, const std::vector<std::string>& runOptions = {}) const;

  // The store the binary wrote. Open it only after the last run of a test
  // that runs as another user, so files SQLite creates stay theirs.
  std::unique_ptr<store::Store> openStore() const;
  std::vector<store::JobRow> jobs() const;  // most recent first

 private:
  TempDir dir_;
  std::string asUser_;
  std::filesystem::path home_;
  std::filesystem::path project_;
};

// One line per '\n'.
std::vector<std::string> lines(const std::string& text);

// The binary on a pseudo-terminal, like a person at a terminal would run it.
class TerminalRun {
 public:
  // Starts `jobtape --home HOME ARGS...` with its stdin/stdout/stderr on a
  // new pty (setsid, the pty as controlling terminal), in `cwd`, as `asUser` when given.
  TerminalRun(const ActionsHome& home, const std::vector<std::string>& args);
  ~TerminalRun();
  TerminalRun(const TerminalRun&) = delete;
  TerminalRun& operator=(const TerminalRun&) = delete;

  void send(const std::string& text);
  // A new window size, as a person resizing the terminal window: the
  // program's foreground process group gets SIGWINCH.
  void resize(unsigned short rows, unsigned short columns);
  // The terminal's local modes now (ICANON, ECHO, ISIG, ...).
  unsigned localModes() const;
  // Reads until `text` shows up after `from` in what was read so far; false
  // on timeout or when the program closed the terminal first.
  bool waitFor(const std::string& text, size_t from = 0,
               std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Exit status (128+N for a signal), or -1 on timeout (the program is then killed).
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  const std::string& output() const { return output_; }

 private:
  bool readSome(std::chrono::milliseconds timeout);

  int master_ = -1;
  pid_t child_ = -1;
  std::string output_;
};

}  // namespace jobtape::testing
