#include "tests/cli_view/view_process.h"

#include <pwd.h>
#include <sys/wait.h>

#include <utility>  // boost 1.74 asio misses it under C++20

#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <chrono>
#include <future>
#include <stdexcept>

namespace jobtape::testing::view {

namespace bp = boost::process;

ProcessResult runProgram(const std::vector<std::string>& argvIn, const ProcessOptions& options) {
  std::vector<std::string> argv = argvIn;
  if (!options.asUser.empty()) {
    // By number: the user's group need not share its name (nobody/nogroup).
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
  bp::child child(program, bp::args(args), env,
                  bp::start_dir(options.cwd ? options.cwd->string() : std::filesystem::current_path().string()),
                  bp::std_in < bp::buffer(options.stdinText), bp::std_out > out, bp::std_err > err, io);
  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  while (io.run_one_until(deadline) > 0) {
  }
  if (std::chrono::steady_clock::now() >= deadline && child.running()) {
    result.timedOut = true;
    child.terminate();
  }
  child.wait();
  io.run();
  int native = child.native_exit_code();
  result.exitStatus = WIFSIGNALED(native) ? 128 + WTERMSIG(native) : WEXITSTATUS(native);
  result.out = out.get();
  result.err = err.get();
  return result;
}

ProcessResult runJobtape(const std::filesystem::path& home, const std::vector<std::string>& args,
                         ProcessOptions options) {
  std::vector<std::string> argv = {jobtapeBinary().string(), "--home", home.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  options.unsetEnv.push_back("NO_COLOR");
  return view::runProgram(argv, options);
}

}  // namespace jobtape::testing::view
