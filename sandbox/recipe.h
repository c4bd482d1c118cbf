// The process recipe in plain C++ form, plus its JSON file format and its
// canonical hash. The schema of record is sandbox/recipe.capnp; this struct
// mirrors it field for field so the runner and the library do not have to
// keep a Cap'n Proto message alive.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace capnp { class MessageBuilder; }

namespace jobtape::sandbox {

struct EnvVar {
  std::string name;
  std::string value;
  bool operator==(const EnvVar&) const = default;
};

struct Mount {
  enum class Kind { bind, roBind, tmpfs };
  Kind kind = Kind::roBind;
  std::string source;       // absolute host path (bind kinds)
  std::string destination;  // absolute path inside; empty = same as source
  bool operator==(const Mount&) const = default;
};

struct Limits {
  uint64_t timeoutMs = 0;
  uint64_t memoryBytes = 0;
  uint64_t maxOpenFiles = 0;
  uint64_t maxProcesses = 0;
  uint64_t cpuSeconds = 0;
  uint64_t maxFileBytes = 0;
  uint64_t killGraceMs = 0;  // 0 = 2000 ms
  bool operator==(const Limits&) const = default;
};

struct Recipe {
  std::string command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;
  std::string workDir;
  std::vector<Mount> mounts;
  bool network = false;
  std::string hostname;  // empty = "jobtape"
  Limits limits;
  int64_t uid = -1;  // -1 = caller's
  int64_t gid = -1;
  std::string name;
  std::vector<EnvVar> meta;
  bool sandboxed = true;
  bool operator==(const Recipe&) const = default;
};

// A recipe that cannot be run: `field` names the offending field in the JSON
// spelling ("mounts[2].destination"), what() says what is wrong with it.
class RecipeError : public std::runtime_error {
 public:
  RecipeError(std::string field, const std::string& message)
      : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// Checks everything the runner relies on: a command, absolute paths without
// NUL or `..`, env names without '='. Throws RecipeError.
void validateRecipe(const Recipe& recipe);

// JSON form (Cap'n Proto's JSON codec over schema::Recipe). Unknown fields
// and wrong types are refused. Throws RecipeError.
Recipe recipeFromJson(const std::string& json);
std::string recipeToJson(const Recipe& recipe);

// Canonical hash: lowercase hex SHA-256 of the canonical Cap'n Proto encoding
// of the recipe. Stable across runs and machines; any field change changes it.
std::string recipeHash(const Recipe& recipe);

}  // namespace jobtape::sandbox
