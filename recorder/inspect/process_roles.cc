#include "recorder/inspect/process_roles.h"

#include <algorithm>
#include <iterator>
#include <cctype>
#include <optional>

namespace jobtape::recorder {

namespace {

constexpr std::string_view kBuildDrivers[] = {
    "make", "gmake", "bmake", "pmake", "remake", "ninja", "ninja-build", "samu", "ctest", "scons", "cargo", "xargs",
};
constexpr std::string_view kCompilerDrivers[] = {
    "cc",   "c++", "gcc",  "g++", "clang", "clang++", "clang-cl", "gfortran", "gccgo",  "gdc",  "rustc", "nvcc", "icc",
    "icpc", "icx", "icpx", "tcc", "zig",   "go",      "emcc",     "em++",     "swiftc", "ldc2", "dmd",   "ghc",
};
constexpr std::string_view kCompilerHelpers[] = {
    "cc1",  "cc1plus",     "cc1obj",   "cc1objplus", "cc1d", "d21",       "f951",    "gnat1",    "go1",
    "lto1", "lto-wrapper", "collect2", "as",         "ld",   "ld.bfd",    "ld.gold", "ld.lld",   "ld64.lld",
    "lld",  "gold",        "mold",     "ptxas",      "cicc", "fatbinary", "nvlink",  "cudafe++",
};
// meson's subcommands that run a build tool's commands.
constexpr std::string_view kMesonBuildCommands[] = {"compile", "test", "install", "dist"};

template <size_t N>
bool among(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

std::string_view baseName(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "gcc-12" -> "gcc", "clang-15.0" -> "clang"; other names as they are.
std::string_view withoutVersion(std::string_view name) {
  auto dash = name.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == name.size()) return name;
  std::string_view suffix = name.substr(dash + 1);
  bool version = std::all_of(suffix.begin(), suffix.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
  return version && std::isdigit(static_cast<unsigned char>(suffix.front())) ? name.substr(0, dash) : name;
}

// "x86_64-linux-gnu-gcc" -> "gcc"; a name without a target prefix as it is.
std::string_view withoutTarget(std::string_view name) {
  auto dash = name.rfind('-');
  return dash == std::string_view::npos ? name : name.substr(dash + 1);
}

bool hasArgument(const std::vector<std::string>& argv, std::string_view word) {
  return std::find(argv.begin(), argv.end(), word) != argv.end();
}

// The role of a program whose name (without directory) is `name`, or
// nullopt when the name says nothing.
std::optional<ProcessRole> roleOfName(std::string_view name, const std::vector<std::string>& argv) {
  if (name == "cmake") {
    if (hasArgument(argv, "--build")) return ProcessRole::buildDriver;
    return std::nullopt;  // configuring or a script: judged by statuses
  }
  if (name == "meson") {
    if (argv.size() > 1 && among(kMesonBuildCommands, argv[1])) return ProcessRole::buildDriver;
    return std::nullopt;
  }
  if (among(kBuildDrivers, name)) return ProcessRole::buildDriver;
  if (among(kCompilerHelpers, name)) return ProcessRole::compilerHelper;
  if (among(kCompilerDrivers, name)) {
    // clang runs its own front end as `clang -cc1` when told not to do it in-process.
    if (argv.size() > 1 && (argv[1] == "-cc1" || argv[1] == "-cc1as")) return ProcessRole::compilerHelper;
    return ProcessRole::compilerDriver;
  }
  return std::nullopt;
}

}  // namespace

ProcessRole processRole(const std::vector<std::string>& argv, std::string_view executable) {
  std::string_view name = baseName(argv.empty() || argv.front().empty() ? executable : std::string_view(argv.front()));
  for (std::string_view candidate : {name, withoutVersion(name), withoutTarget(withoutVersion(name))}) {
    if (auto role = roleOfName(candidate, argv)) return *role;
  }
  return ProcessRole::other;
}

const char* processRoleName(ProcessRole role) {
  switch (role) {
    case ProcessRole::buildDriver: return "build driver";
    case ProcessRole::compilerDriver: return "compiler driver";
    case ProcessRole::compilerHelper: return "compiler helper";
    case ProcessRole::other: return "other";
  }
  return "other";
}

}  // namespace jobtape::recorder
