// Errors the command line turns into one `jobtape: error: ...` line.
#pragma once

#include <stdexcept>
#include <string>

namespace jobtape::cli {

// exitStatus 2 is bad usage; 1 is "could not do it". `hint` says what to do
// and is printed after the message ("...; hint").
class CliError : public std::runtime_error {
 public:
  CliError(const std::string& message, std::string hint = {}, int exitStatus = 1)
      : std::runtime_error(message), hint_(std::move(hint)), exitStatus_(exitStatus) {}
  const std::string& hint() const { return hint_; }
  int exitStatus() const { return exitStatus_; }

 private:
  std::string hint_;
  int exitStatus_;
};

inline CliError usageError(const std::string& message, std::string hint = {}) {
  return CliError(message, std::move(hint), 2);
}

}  // namespace jobtape::cli
