// `jobtape completion zsh`, driven the way a person drives it: an
// interactive zsh on a pseudo-terminal of its own, with the script in its
// fpath and compinit run, gets a line typed and TAB pressed; what it draws
// back is the completion. zsh completes only inside its line editor, so
// nothing short of a terminal tests the script for real.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// An interactive `zsh -f -i` on a new pty, with `rc` run first.
class ZshSession {
 public:
  ZshSession(const fs::path& zsh, const fs::path& zdotdir, const std::vector<std::string>& env) {
    winsize size{24, 200, 0, 0};
    child_ = ::forkpty(&master_, nullptr, nullptr, &size);
    if (child_ == 0) {
      std::vector<char*> envp;
      for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
      std::string dotdir = "ZDOTDIR=" + zdotdir.string();
      envp.push_back(dotdir.data());
      envp.push_back(nullptr);
      const char* argv[] = {zsh.c_str(), "-i", nullptr};
      ::execve(zsh.c_str(), const_cast<char* const*>(argv), envp.data());
      ::_exit(127);
    }
  }
  ~ZshSession() {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  ZshSession(const ZshSession&) = delete;
  ZshSession& operator=(const ZshSession&) = delete;

  bool started() const { return child_ > 0; }
  void send(const std::string& text) { ASSERT_EQ(::write(master_, text.data(), text.size()), ssize_t(text.size())); }
  size_t mark() const { return output_.size(); }
  const std::string& output() const { return output_; }

  // Reads until `text` shows up after `from`; false after 20 s.
  bool waitFor(const std::string& text, size_t from) {
    auto until = Clock::now() + std::chrono::seconds(20);
    while (output_.find(text, from) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return false;
      pollfd fd{master_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::read(master_, buffer, sizeof buffer);
      if (n <= 0) return false;
      output_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

 private:
  int master_ = -1;
  pid_t child_ = -1;
  std::string output_;
};

class ZshCompletionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    zsh_ = "/usr/bin/zsh";
    if (!fs::exists(zsh_)) GTEST_SKIP() << "zsh is not installed";
    fs::path functions = dir_.path() / "functions";
    fs::path bin = dir_.path() / "bin";
    fs::create_directories(functions);
    fs::create_directories(bin);
    fs::create_symlink(jobtapeBinary(), bin / "jobtape");
    ProcessResult script = runJobtape(home(), {"completion", "zsh"});
    ASSERT_EQ(script.exitStatus, 0) << script.err;
    std::ofstream(functions / "_jobtape") << script.out;
    // A prompt that cannot be mistaken for output, and no menu selection.
    std::ofstream(dir_.path() / ".zshrc") << "fpath=(" << functions.string() << " $fpath)\n"
                                          << "autoload -U compinit && compinit -u -D\n"
                                          << "PS1='READY> '\nunsetopt beep\n";
    env_ = {"PATH=" + bin.string() + ":/usr/bin:/bin", "HOME=" + dir_.path().string(), "TERM=dumb",
            "JOBTAPE_HOME=" + home().string()};
  }

  fs::path home() const { return dir_.path() / "store"; }

  // The line as zsh shows it after TAB on `typed`.
  std::string completed(const std::string& typed) {
    ZshSession session(zsh_, dir_.path(), env_);
    EXPECT_TRUE(session.started());
    EXPECT_TRUE(session.waitFor("READY> ", 0)) << session.output();
    size_t mark = session.mark();
    session.send(typed + "\t");
    // zsh redraws the line; a marker typed after TAB shows where it ends.
    session.send("@@END");
    EXPECT_TRUE(session.waitFor("@@END", mark)) << session.output();
    std::string drawn = session.output().substr(mark);
    return drawn.substr(0, drawn.find("@@END"));
  }

  fs::path zsh_;
  std::vector<std::string> env_;
  TempDir dir_;
};

TEST_F(ZshCompletionTest, CompletesSubcommandsAndOptions) {
  EXPECT_NE(completed("jobtape job sh").find("show"), std::string::npos);
  EXPECT_NE(completed("jobtape job logs --fol").find("--follow"), std::string::npos);
}

TEST_F(ZshCompletionTest, CompletesTheNameOfARecentJob) {
  ProcessResult named = runJobtape(home(), {"run", "--no-sandbox", "--quiet", "--name", "nightly-7", "--", "/bin/true"});
  ASSERT_EQ(named.exitStatus, 0) << named.err;
  EXPECT_NE(completed("jobtape job show name:nig").find("name:nightly-7"), std::string::npos);
}

}  // namespace
}  // namespace jobtape::testing
