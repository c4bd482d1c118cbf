#include "tests/common/jobtape_process.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>  // boost 1.74 asio misses it under C++20

#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <cstdlib>
#include <string_view>
#include <future>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace bp = boost::process;

namespace jobtape::testing {

std::filesystem::path jobtapeBinary() {
  const char* path = std::getenv("JOBTAPE_BINARY");
  if (!path || !*path) throw std::runtime_error("JOBTAPE_BINARY is not set (run the tests through meson)");
  return path;
}

std::filesystem::path buildTree() {
  const char* root = std::getenv("JOBTAPE_BUILD_ROOT");
  return root != nullptr ? std::filesystem::path(root) : std::filesystem::path();
}

std::vector<std::string> buildTreeBinds() {
  const char* root = std::getenv("JOBTAPE_BUILD_ROOT");
  if (root == nullptr || !std::string_view(root).starts_with("/tmp/")) return {};
  return {"--ro-bind", root};
}

bool runningAsRoot() { return geteuid() == 0; }

ProcessResult runProgram(const std::vector<std::string>& argvIn, const ProcessOptions& options) {
  std::vector<std::string> argv = argvIn;
  if (!options.asUser.empty()) {
    // setpriv keeps the environment; HOME is set by the caller if needed.
    // The user's own primary group (nobody's is nogroup on Debian).
    struct passwd* user = ::getpwnam(options.asUser.c_str());
    if (!user) throw std::runtime_error("no such user: " + options.asUser);
    std::vector<std::string> prefix = {"/usr/bin/setpriv", "--reuid=" + std::to_string(user->pw_uid),
                                       "--regid=" + std::to_string(user->pw_gid), "--clear-groups", "--"};
    argv.insert(argv.begin(), prefix.begin(), prefix.end());
  }
  bp::environment env = boost::this_process::environment();
  for (const auto& name : options.unsetEnv) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;

  boost::asio::io_context io;
  std::future<std::string> out;
  std::future<std::string> err;
  std::string program = argv.front();
  if (program.find('/') == std::string::npos) program = bp::search_path(program).string();
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  // The exit is learnt through the io_context (Boost reaps the child on
  // SIGCHLD there); polling child.running() beside it races that reaping.
  bool exited = false;
  int nativeStatus = 0;
  bp::child child(program, bp::args(args), env,
                  bp::start_dir(options.cwd ? options.cwd->string() : std::filesystem::current_path().string()),
                  bp::std_in < bp::buffer(options.stdinText), bp::std_out > out, bp::std_err > err, io,
                  bp::on_exit([&](int, const std::error_code&) { exited = true; }));
  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  while (!(exited && out.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
           err.wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
    if (io.run_one_until(deadline) == 0) break;
  }
  std::error_code waitError;
  if (!exited) {
    result.timedOut = true;
    child.terminate(waitError);
    io.run();
  }
  nativeStatus = child.native_exit_code();
  result.exitStatus = WIFSIGNALED(nativeStatus) ? 128 + WTERMSIG(nativeStatus) : WEXITSTATUS(nativeStatus);
  result.out = out.get();
  result.err = err.get();
  return result;
}

ProcessResult runJobtape(const std::filesystem::path& home, const std::vector<std::string>& args,
                         ProcessOptions options) {
  std::vector<std::string> argv = {jobtapeBinary().string(), "--home", home.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  options.unsetEnv.push_back("NO_COLOR");
  return runProgram(argv, options);
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::filesystem::path root = base && *base ? base : "/tmp";
  std::random_device random;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = root / ("jobtape-test-" + std::to_string(random()));
    std::error_code ec;
    if (std::filesystem::create_directory(candidate, ec)) {
      ::chmod(candidate.c_str(), 0777);
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory under " + root.string());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace jobtape::testing
