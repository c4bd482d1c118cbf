#include "tests/cli_actions/actions_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/common/store_owner.h"

#include <utility>  // boost 1.74 asio misses it under C++20

#include <boost/process.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace jobtape::testing {

namespace fs = std::filesystem;
namespace bp = boost::process;

// setpriv with the user's own uid and primary gid (Debian's `nobody` has
// group `nogroup`, so the user name is no group name).
static std::vector<std::string> asUserPrefix(const std::string& user) {
  if (user.empty()) return {};
  struct passwd* entry = ::getpwnam(user.c_str());
  if (!entry) throw std::runtime_error("no user " + user);
  return {"/usr/bin/setpriv", "--reuid=" + std::to_string(entry->pw_uid), "--regid=" + std::to_string(entry->pw_gid),
          "--clear-groups", "--"};
}

std::vector<std::string> usersToTest() {
  std::vector<std::string> users = {""};
  if (runningAsRoot()) users.push_back("nobody");
  return users;
}

std::string userLabel(const std::string& asUser) { return asUser.empty() ? "caller" : asUser; }

ActionsHome::ActionsHome(std::string asUser) : asUser_(std::move(asUser)) {
  home_ = dir_.path() / "home";
  project_ = dir_.path() / "project";
  fs::create_directory(project_);
  ::chmod(project_.c_str(), 0777);  // the unprivileged user writes there too
}

ProcessResult ActionsHome::jobtape(const std::vector<std::string>& args, ProcessOptions options) const {
  options.asUser = asUser_;
  if (!options.cwd) options.cwd = project_;
  options.env.emplace("HOME", dir_.path().string());
  options.unsetEnv.push_back("NO_COLOR");
  std::vector<std::string> argv = {jobtapeBinary().string(), "--home", home_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProgram(argv, options);
}

ProcessResult ActionsHome::record(const std::string& script, const std::vector<std::string>& runOptions) const {
  std::vector<std::string> args = {"run", "--project", project_.string()};
  args.insert(args.end(), runOptions.begin(), runOptions.end());
  args.insert(args.end(), {"--", "sh", "-c", script});
  return jobtape(args);
}

std::unique_ptr<store::Store> ActionsHome::openStore() const {
  auto store = openExistingStoreAsOwner(home_);
  if (!store) throw std::runtime_error("no store at " + home_.string());
  return store;
}

std::vector<store::JobRow> ActionsHome::jobs() const {
  store::JobFilter all;
  all.limit = 0;
  return openStore()->jobs(all);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    result.push_back(text.substr(start, end - start));
  }
  if (start < text.size()) result.push_back(text.substr(start));
  return result;
}

// ---- TerminalRun -----------------------------------------------------------------

namespace {

std::vector<std::string> childEnvironment(const ActionsHome& home) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string text = *entry;
    if (text.rfind("HOME=", 0) == 0 || text.rfind("TERM=", 0) == 0 || text.rfind("NO_COLOR=", 0) == 0) continue;
    env.push_back(text);
  }
  env.push_back("HOME=" + home.scratch().string());
  env.push_back("TERM=dumb");
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& words) {
  std::vector<char*> result;
  for (auto& word : words) result.push_back(word.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

TerminalRun::TerminalRun(const ActionsHome& home, const std::vector<std::string>& args) {
  std::vector<std::string> argv = asUserPrefix(home.asUser());
  argv.push_back(jobtapeBinary().string());
  argv.push_back("--home");
  argv.push_back(home.home().string());
  argv.insert(argv.end(), args.begin(), args.end());
  auto env = childEnvironment(home);
  auto argvPointers = pointers(argv);
  auto envPointers = pointers(env);
  std::string cwd = home.project().string();

  int slave = -1;
  struct winsize size {};
  size.ws_row = 24;
  size.ws_col = 80;
  if (::openpty(&master_, &slave, nullptr, nullptr, &size) != 0) {
    throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
  }
  ::fcntl(master_, F_SETFD, FD_CLOEXEC);
  ::fchmod(slave, 0666);  // the pty stays usable after setpriv switches users
  child_ = ::fork();
  if (child_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child_ == 0) {
    // Only async-signal-safe calls from here on.
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    ::dup2(slave, 0);
    ::dup2(slave, 1);
    ::dup2(slave, 2);
    if (slave > 2) ::close(slave);
    if (::chdir(cwd.c_str()) != 0) ::_exit(125);
    ::execve(argvPointers[0], argvPointers.data(), envPointers.data());
    ::_exit(127);
  }
  ::close(slave);
}

TerminalRun::~TerminalRun() {
  if (child_ > 0) {
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, 0);
  }
  if (master_ >= 0) ::close(master_);
}

void TerminalRun::send(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(master_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("write to pty: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

void TerminalRun::resize(unsigned short rows, unsigned short columns) {
  struct winsize size {};
  size.ws_row = rows;
  size.ws_col = columns;
  if (::ioctl(master_, TIOCSWINSZ, &size) != 0) throw std::runtime_error(std::string("TIOCSWINSZ: ") + std::strerror(errno));
}

unsigned TerminalRun::localModes() const {
  struct termios modes {};
  if (::tcgetattr(master_, &modes) != 0) throw std::runtime_error(std::string("tcgetattr: ") + std::strerror(errno));
  return modes.c_lflag;
}

bool TerminalRun::readSome(std::chrono::milliseconds timeout) {
  struct pollfd poller {master_, POLLIN, 0};
  int ready = ::poll(&poller, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return false;
  char buffer[4096];
  ssize_t n = ::read(master_, buffer, sizeof buffer);
  if (n <= 0) return false;  // EIO: every slave side is closed
  output_.append(buffer, static_cast<size_t>(n));
  return true;
}

bool TerminalRun::waitFor(const std::string& text, size_t from, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (output_.find(text, std::min(from, output_.size())) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !readSome(left)) return false;
  }
  return true;
}

int TerminalRun::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(child_, &status, WNOHANG);
    if (done == child_) {
      child_ = -1;
      while (readSome(std::chrono::milliseconds(0))) {
      }
      return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;  // the destructor kills it
    // Keep draining so the program never blocks on a full terminal.
    if (!readSome(std::chrono::milliseconds(50))) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace jobtape::testing
