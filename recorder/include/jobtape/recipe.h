// The process recipe: everything needed to run one job again, exactly.
// Mirrors schema::Recipe in recipe.capnp (installed in share/jobtape/) field
// for field; its JSON file form and its hash are those of that schema.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace jobtape {

struct EnvVar {
  std::string name;
  std::string value;
  bool operator==(const EnvVar&) const = default;
};

struct Mount {
  // homeOverlay: `source` writable through an overlay whose upper layer the
  // recorder keeps per project in its store; the host's copy is never written.
  enum class Kind { bind, roBind, tmpfs, homeOverlay };
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
  // Names in `env` whose values are secrets, besides those whose names say so
  // (*TOKEN*, *SECRET*, *PASSWORD*, *PASSWD*, *CREDENTIAL*, *API_KEY*, *AUTH*,
  // *_KEY): the job gets the value, the record keeps "***" and the recorded
  // output has the value replaced by "***".
  std::vector<std::string> secretEnv;
  bool operator==(const Recipe&) const = default;
};

// Where the values of a recipe's masked secret variables come from when it
// runs again (retry, debug-shell); the library's default is the caller's
// environment (callerEnvironment in <jobtape/actions.h>).
using SecretLookup = std::function<std::optional<std::string>(const std::string& name)>;

}  // namespace jobtape
