// The binary's front door: version, help, and bad usage.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/common/jobtape_process.h"

using jobtape::testing::runJobtape;
using jobtape::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(CliBasic, VersionPrintsTheVersion) {
  TempDir home;
  auto result = runJobtape(home.path(), {"--version"});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_THAT(result.out, StartsWith("jobtape 0."));
}

TEST(CliBasic, HelpListsTheCommands) {
  TempDir home;
  auto result = runJobtape(home.path(), {"--help"});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_THAT(result.out, HasSubstr("run"));
  EXPECT_THAT(result.out, HasSubstr("job"));
}

TEST(CliBasic, UnknownCommandIsOneLineUsageError) {
  TempDir home;
  auto result = runJobtape(home.path(), {"frobnicate"});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(CliBasic, NoCommandIsUsageError) {
  TempDir home;
  auto result = runJobtape(home.path(), {});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
}
