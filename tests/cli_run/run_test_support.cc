#include "tests/cli_run/run_test_support.h"

#include "tests/common/store_owner.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>  // boost 1.74 asio misses it under C++20

#include <atomic>
#include <boost/process.hpp>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace jobtape::testing {

struct LiveJobtape::Impl {
  bp::ipstream out;
  bp::ipstream err;
  bp::child child;
  std::thread outReader;
  std::thread errReader;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<ArrivedLine> outLines;
  std::string outText;  // exactly as read, unlike the lines
  bool outDone = false;
  std::string errText;
};

LiveJobtape::LiveJobtape(const fs::path& home, const std::vector<std::string>& args,
                         const std::optional<fs::path>& cwd)
    : LiveJobtape(home, args, ProcessOptions{.cwd = cwd}) {}

namespace {

std::vector<std::string> jobtapeArgv(const fs::path& home, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {jobtapeBinary().string(), "--home", home.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

LiveJobtape::LiveJobtape(const fs::path& home, const std::vector<std::string>& args,
                         const ProcessOptions& options)
    : LiveJobtape(jobtapeArgv(home, args), options) {}

LiveJobtape::LiveJobtape(std::vector<std::string> argv, const ProcessOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (!options.asUser.empty()) {
    // The user's own primary group: Debian's nobody is in nogroup, not "nobody".
    struct passwd* user = ::getpwnam(options.asUser.c_str());
    if (!user) throw std::runtime_error("no user " + options.asUser);
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=" + std::to_string(user->pw_uid),
                               "--regid=" + std::to_string(user->pw_gid), "--clear-groups", "--"});
  }
  bp::environment env = boost::this_process::environment();
  env.erase("NO_COLOR");
  for (const auto& name : options.unsetEnv) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;
  std::string program = argv.front();
  argv.erase(argv.begin());
  impl_->child = bp::child(program, bp::args(argv), env,
                           bp::start_dir(options.cwd ? options.cwd->string() : fs::current_path().string()),
                           bp::std_in < bp::null, bp::std_out > impl_->out, bp::std_err > impl_->err);
  impl_->outReader = std::thread([impl = impl_.get()] {
    for (std::string line; std::getline(impl->out, line);) {
      std::lock_guard lock(impl->mutex);
      impl->outLines.push_back({line, std::chrono::steady_clock::now()});
      impl->outText += line;
      if (!impl->out.eof()) impl->outText += '\n';
      impl->changed.notify_all();
    }
    std::lock_guard lock(impl->mutex);
    impl->outDone = true;
    impl->changed.notify_all();
  });
  impl_->errReader = std::thread([impl = impl_.get()] {
    std::string all((std::istreambuf_iterator<char>(impl->err)), std::istreambuf_iterator<char>());
    std::lock_guard lock(impl->mutex);
    impl->errText = std::move(all);
  });
}

LiveJobtape::~LiveJobtape() {
  std::error_code ec;
  if (impl_->child.running(ec)) ::kill(impl_->child.id(), SIGKILL);
  impl_->child.wait(ec);
  impl_->outReader.join();
  impl_->errReader.join();
}

pid_t LiveJobtape::pid() const { return impl_->child.id(); }

bool LiveJobtape::waitForStdoutLine(const std::string& text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    for (const auto& line : impl_->outLines) {
      if (line.text == text) return true;
    }
    return impl_->outDone;
  }) && std::any_of(impl_->outLines.begin(), impl_->outLines.end(),
                    [&](const ArrivedLine& line) { return line.text == text; });
}

void LiveJobtape::signal(int signal) { ::kill(impl_->child.id(), signal); }

std::optional<int> LiveJobtape::wait(std::chrono::milliseconds timeout) {
  // Polling, not child::wait_for(): Boost 1.74's wait_for sleeps out its
  // whole timeout when the child exited before the call.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::error_code ec;
  while (impl_->child.running(ec)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->outReader.join();
  impl_->errReader.join();
  impl_->outReader = std::thread([] {});
  impl_->errReader = std::thread([] {});
  int native = impl_->child.native_exit_code();
  return WIFSIGNALED(native) ? 128 + WTERMSIG(native) : WEXITSTATUS(native);
}

std::vector<ArrivedLine> LiveJobtape::stdoutLines() {
  std::lock_guard lock(impl_->mutex);
  return impl_->outLines;
}

std::string LiveJobtape::stdoutText() {
  std::lock_guard lock(impl_->mutex);
  return impl_->outText;
}

std::string LiveJobtape::stderrText() {
  std::lock_guard lock(impl_->mutex);
  return impl_->errText;
}

ProcessResult runJobtapeToEnd(const fs::path& home, const std::vector<std::string>& args,
                              const ProcessOptions& options) {
  return runProgramToEnd(jobtapeArgv(home, args), options);
}

ProcessResult runProgramToEnd(const std::vector<std::string>& argv, const ProcessOptions& options) {
  LiveJobtape jobtape(argv, options);
  ProcessResult result;
  auto status = jobtape.wait(options.timeout);
  if (!status) {
    result.timedOut = true;
    jobtape.signal(SIGKILL);
    status = jobtape.wait(std::chrono::seconds(60));
  }
  result.exitStatus = status.value_or(-1);
  result.out = jobtape.stdoutText();
  result.err = jobtape.stderrText();
  return result;
}

namespace {

// A process may end between the directory listing and the read: its files
// then fail with ESRCH, which libstdc++'s filebuf throws on. Such a process
// has no arguments any more.
std::string procFileOrEmpty(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text;
  char chunk[4096];
  for (ssize_t got; (got = ::read(fd, chunk, sizeof chunk)) > 0;) text.append(chunk, static_cast<size_t>(got));
  ::close(fd);
  return text;
}

}  // namespace

std::vector<pid_t> hostProcessesWithArgument(const std::string& word) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::stringstream args(procFileOrEmpty(entry.path() / "cmdline"));
    for (std::string arg; std::getline(args, arg, '\0');) {
      if (arg == word) {
        found.push_back(std::stoi(name));
        break;
      }
    }
  }
  return found;
}

bool waitUntilNoProcessWithArgument(const std::string& word, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!hostProcessesWithArgument(word).empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string uniqueSleepSeconds() {
  static std::atomic<int> counter{0};
  return "1000." + std::to_string(::getpid()) + std::to_string(counter++);
}

std::unique_ptr<store::Store> openStoreAt(const fs::path& home) { return openStoreAsOwner(home); }

store::JobRow onlyJob(const fs::path& home) {
  auto store = openStoreAt(home);
  store->reapAbandoned();
  auto jobs = store->jobs({.limit = 0});
  EXPECT_EQ(jobs.size(), 1u);
  if (jobs.empty()) throw std::runtime_error("no job recorded in " + home.string());
  return jobs.front();
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace jobtape::testing
