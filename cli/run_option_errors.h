// A recipe that `jobtape run` built from its options is refused in terms of
// the option typed: `--memory 10: must be 0 (no limit) or at least 1 MiB`,
// not `recipe field "limits.memoryBytes": ...`, which names a field of a
// file the user never wrote.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <jobtape/recorder.h>

namespace jobtape::cli {

// Which option, as typed, filled which recipe field.
class RunOptionOrigins {
 public:
  // `field` is the recipe's JSON spelling ("limits.memoryBytes", "name").
  void field(const std::string& field, std::string typed) { fields_[field] = std::move(typed); }
  // The next recipe mount came from `typed` ("--bind src:dst"); "" for one of the default sandbox.
  void mount(std::string typed) { mounts_.push_back(std::move(typed)); }

  // "--memory 10" for "limits.memoryBytes", "--bind a:b" for "mounts[3].source".
  std::optional<std::string> optionFor(const std::string& field) const;

 private:
  std::map<std::string, std::string> fields_;
  std::vector<std::string> mounts_;
};

// The refusal's message, escaped, with the option in front instead of the
// field when an option filled it.
std::string inOptionTerms(const Error& refusal, const RunOptionOrigins& origins);

}  // namespace jobtape::cli
