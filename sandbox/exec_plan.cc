#include "sandbox/exec_plan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace jobtape::sandbox {

namespace {

constexpr const char* kDefaultPath = "/bin:/usr/bin";

std::vector<std::string> pathCandidates(const std::string& command, const std::string& path) {
  if (command.find('/') != std::string::npos) return {command};
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    out.push_back(dir.empty() ? command : dir + (dir.back() == '/' ? "" : "/") + command);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

}  // namespace

ExecPlan ExecPlan::build(const Recipe& recipe, const std::vector<EnvVar>& extraEnv) {
  ExecPlan plan;
  plan.argvStrings_.push_back(recipe.command);
  plan.argvStrings_.insert(plan.argvStrings_.end(), recipe.args.begin(), recipe.args.end());

  std::vector<EnvVar> env;
  auto set = [&env](const EnvVar& var) {
    for (EnvVar& existing : env) {
      if (existing.name == var.name) {
        existing.value = var.value;
        return;
      }
    }
    env.push_back(var);
  };
  for (const EnvVar& var : recipe.env) set(var);
  for (const EnvVar& var : extraEnv) set(var);
  std::string path = kDefaultPath;
  for (const EnvVar& var : env) {
    plan.envStrings_.push_back(var.name + "=" + var.value);
    if (var.name == "PATH") path = var.value;
  }
  plan.candidates_ = pathCandidates(recipe.command, path);
  plan.workDir_ = recipe.workDir;

  for (std::string& s : plan.argvStrings_) plan.argv_.push_back(s.data());
  plan.argv_.push_back(nullptr);
  for (std::string& s : plan.envStrings_) plan.envp_.push_back(s.data());
  plan.envp_.push_back(nullptr);
  return plan;
}

ExecPlan::Resolved ExecPlan::resolve() const noexcept {
  if (argvStrings_[0].find('/') != std::string::npos) return {candidates_[0].c_str(), 0, 0};
  bool denied = false;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const std::string& candidate = candidates_[i];
    struct stat st;
    if (::stat(candidate.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) return {candidate.c_str(), 0, static_cast<int>(i)};
    denied = true;
  }
  return {nullptr, denied ? EACCES : ENOENT};
}

int ExecPlan::exec(const char* path) const noexcept {
  ::execve(path, argv_.data(), envp_.data());
  return errno;
}

}  // namespace jobtape::sandbox
