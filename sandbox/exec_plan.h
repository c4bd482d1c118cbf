// What the main process execs: argv, the environment, where to find the
// program. Built in the supervisor; used in the child without allocating.
//
// argv is [command, args...] exactly as the recipe has them: no shell, no
// option parsing, so "--help" or "-rf" in args reaches the program verbatim.
// The environment is exactly the recipe's env plus the run's extra variables
// (which replace recipe entries of the same name). A command without '/' is
// looked up in that environment's PATH (default /bin:/usr/bin, like execvp)
// inside the sandbox's own view; the first regular executable file wins, and
// "exists but is not executable" is told apart from "not found" (126 vs 127).
#pragma once

#include <string>
#include <vector>

#include "sandbox/recipe.h"

namespace jobtape::sandbox {

class ExecPlan {
 public:
  friend class InitPlanCodec;  // init_plan.cc: across the exec of pid 1

  static ExecPlan build(const Recipe& recipe, const std::vector<EnvVar>& extraEnv);

  struct Resolved {
    const char* path = nullptr;  // nullptr: nothing runnable found
    int error = 0;               // then ENOENT or EACCES
    int index = -1;              // of `path` in candidates()
  };
  // Child side, async-signal-safe.
  Resolved resolve() const noexcept;
  // Child side: execve; returns only on failure, with errno.
  int exec(const char* path) const noexcept;

  const char* workDir() const { return workDir_.empty() ? nullptr : workDir_.c_str(); }
  const std::vector<std::string>& environment() const { return envStrings_; }
  const std::vector<std::string>& candidates() const { return candidates_; }
  const std::vector<std::string>& argv() const { return argvStrings_; }

  ExecPlan() = default;
  ExecPlan(ExecPlan&&) = default;
  ExecPlan& operator=(ExecPlan&&) = default;

 private:
  std::vector<std::string> argvStrings_, envStrings_, candidates_;
  std::vector<char*> argv_, envp_;
  std::string workDir_;
};

}  // namespace jobtape::sandbox
