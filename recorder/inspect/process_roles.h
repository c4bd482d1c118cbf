// What part a program plays in a build, judged by its name and first
// arguments: the knowledge behind reducing a failing chain of processes to
// the command a build tool ran (failed_processes.h).
//
// Names are compared without their directory, a version suffix ("gcc-12",
// "clang-15") or a target prefix ("x86_64-linux-gnu-gcc", "arm-none-eabi-ld").
// The lists name what is common on Linux; a program not named is `other`,
// and the reduction then goes by exit statuses alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jobtape::recorder {

enum class ProcessRole {
  // A build tool that runs commands and fails when one of them fails: every
  // failing child explains its failure (make, ninja, ctest, cmake --build,
  // meson compile|test|install, cargo, scons, xargs).
  buildDriver,
  // A compiler driver: what it runs (cc1, as, collect2, ld, a linker driver
  // called by rustc) are its own helpers, never the command to show
  // (cc, gcc, g++, clang, rustc, nvcc, go, ...).
  compilerDriver,
  // A compiler driver's helper: shown only where a build tool ran it itself
  // (make linking with ld); under anything else its failure is its caller's
  // (cc1, cc1plus, as, collect2, ld, lto-wrapper, clang -cc1, ...).
  compilerHelper,
  other,
};

// `argv` as recorded (argv[0] as the parent passed it); `executable` is the
// path given to execve, used when argv is empty.
ProcessRole processRole(const std::vector<std::string>& argv, std::string_view executable);

// "build driver", "compiler driver", "compiler helper", "other"
const char* processRoleName(ProcessRole role);

}  // namespace jobtape::recorder
