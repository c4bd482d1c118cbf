// jobtape::Error: every failure of the library, one type for every layer.
//
// Header-only so that every part of the library, down to the sandbox, throws
// the one type a caller catches.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

namespace jobtape {

// Every failure of the library. what() is one line saying what failed;
// kind() says where, cause() holds the underlying exception if there was one.
class Error : public std::runtime_error {
 public:
  enum class Kind {
    store,            // the SQLite store could not be opened or written
    recipe,           // the recipe is invalid; field() names the field
    sandbox,          // the sandbox supervisor itself could not work
    io,               // a file or directory of the job could not be made
    invalidArgument,  // the API was called wrongly (unknown project id, ...)
  };

  Error(Kind kind, const std::string& message, std::string field = {}, std::error_code code = {},
        std::exception_ptr cause = nullptr)
      : std::runtime_error(message),
        kind_(kind),
        field_(std::move(field)),
        code_(code),
        cause_(std::move(cause)) {}

  Kind kind() const noexcept { return kind_; }
  // With Kind::recipe: the offending field, JSON spelling ("mounts[2].source").
  const std::string& field() const noexcept { return field_; }
  // The system error (errno) behind it, if any.
  std::error_code code() const noexcept { return code_; }
  std::exception_ptr cause() const noexcept { return cause_; }

 private:
  Kind kind_;
  std::string field_;
  std::error_code code_;
  std::exception_ptr cause_;
};

// "store", "recipe", ...
constexpr const char* errorKindName(Error::Kind kind) noexcept {
  switch (kind) {
    case Error::Kind::store: return "store";
    case Error::Kind::recipe: return "recipe";
    case Error::Kind::sandbox: return "sandbox";
    case Error::Kind::io: return "io";
    case Error::Kind::invalidArgument: return "invalid-argument";
  }
  return "unknown";
}

}  // namespace jobtape
