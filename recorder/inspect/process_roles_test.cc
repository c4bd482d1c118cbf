#include "recorder/inspect/process_roles.h"

#include <gtest/gtest.h>

namespace jobtape::recorder {
namespace {

ProcessRole role(std::vector<std::string> argv) { return processRole(argv, "/usr/bin/whatever"); }

TEST(ProcessRoles, BuildDrivers) {
  EXPECT_EQ(role({"make", "-j2"}), ProcessRole::buildDriver);
  EXPECT_EQ(role({"/usr/bin/gmake"}), ProcessRole::buildDriver);
  EXPECT_EQ(role({"ninja", "-C", "build"}), ProcessRole::buildDriver);
  EXPECT_EQ(role({"ctest", "--output-on-failure"}), ProcessRole::buildDriver);
  EXPECT_EQ(role({"cmake", "--build", "build"}), ProcessRole::buildDriver);
  EXPECT_EQ(role({"meson", "compile", "-C", "build"}), ProcessRole::buildDriver);
  EXPECT_EQ(role({"cargo", "build"}), ProcessRole::buildDriver);
}

TEST(ProcessRoles, ConfiguringIsNoDriving) {
  EXPECT_EQ(role({"cmake", "-S", ".", "-B", "build"}), ProcessRole::other);
  EXPECT_EQ(role({"meson", "setup", "build"}), ProcessRole::other);
}

TEST(ProcessRoles, CompilerDriversWithVersionsAndTargets) {
  EXPECT_EQ(role({"cc", "-c", "a.c"}), ProcessRole::compilerDriver);
  EXPECT_EQ(role({"/usr/bin/c++"}), ProcessRole::compilerDriver);
  EXPECT_EQ(role({"gcc-12"}), ProcessRole::compilerDriver);
  EXPECT_EQ(role({"x86_64-linux-gnu-gcc-12"}), ProcessRole::compilerDriver);
  EXPECT_EQ(role({"arm-none-eabi-g++"}), ProcessRole::compilerDriver);
  EXPECT_EQ(role({"clang++-15"}), ProcessRole::compilerDriver);
  EXPECT_EQ(role({"rustc", "--crate-name", "x"}), ProcessRole::compilerDriver);
}

TEST(ProcessRoles, CompilerHelpers) {
  EXPECT_EQ(role({"/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", "x.cc"}), ProcessRole::compilerHelper);
  EXPECT_EQ(role({"as", "--64"}), ProcessRole::compilerHelper);
  EXPECT_EQ(role({"x86_64-linux-gnu-ld.bfd"}), ProcessRole::compilerHelper);
  EXPECT_EQ(role({"/usr/lib/gcc/x86_64-linux-gnu/12/lto-wrapper"}), ProcessRole::compilerHelper);
  EXPECT_EQ(role({"clang", "-cc1", "-triple"}), ProcessRole::compilerHelper);
}

TEST(ProcessRoles, EverythingElseIsOther) {
  EXPECT_EQ(role({"sh", "-c", "make"}), ProcessRole::other);
  EXPECT_EQ(role({"python3", "build.py"}), ProcessRole::other);
  EXPECT_EQ(role({"./gcc-wrapper.sh"}), ProcessRole::other);
  EXPECT_EQ(role({"make-4.3.tar"}), ProcessRole::other);
}

TEST(ProcessRoles, TheExecutableNamesAProcessWithoutArgv) {
  EXPECT_EQ(processRole({}, "/usr/bin/ninja"), ProcessRole::buildDriver);
  EXPECT_EQ(processRole({""}, "/usr/bin/cc"), ProcessRole::compilerDriver);
}

}  // namespace
}  // namespace jobtape::recorder
