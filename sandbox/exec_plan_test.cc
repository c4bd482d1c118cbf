#include "sandbox/exec_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace jobtape::sandbox {
namespace {

using ::testing::ElementsAre;

Recipe recipeFor(std::string command, std::vector<EnvVar> env = {}) {
  Recipe r;
  r.command = std::move(command);
  r.env = std::move(env);
  return r;
}

TEST(ExecPlan, BareCommandIsLookedUpInTheRecipesPath) {
  ExecPlan plan = ExecPlan::build(recipeFor("cc", {{"PATH", "/opt/bin:/usr/bin/::/bin"}}), {});
  EXPECT_THAT(plan.candidates(), ElementsAre("/opt/bin/cc", "/usr/bin/cc", "cc", "/bin/cc"));
}

TEST(ExecPlan, DefaultPathIsExecvps) {
  ExecPlan plan = ExecPlan::build(recipeFor("cc"), {});
  EXPECT_THAT(plan.candidates(), ElementsAre("/bin/cc", "/usr/bin/cc"));
}

TEST(ExecPlan, CommandWithSlashIsTakenAsIs) {
  EXPECT_THAT(ExecPlan::build(recipeFor("./build.sh", {{"PATH", "/bin"}}), {}).candidates(), ElementsAre("./build.sh"));
  EXPECT_THAT(ExecPlan::build(recipeFor("/usr/bin/make"), {}).candidates(), ElementsAre("/usr/bin/make"));
}

TEST(ExecPlan, ExtraEnvironmentReplacesAndAppends) {
  ExecPlan plan = ExecPlan::build(recipeFor("cc", {{"PATH", "/bin"}, {"A", "1"}, {"EMPTY", ""}}),
                                  {{"A", "2"}, {"JOBTAPE_JOB_ID", "x"}, {"PATH", "/opt/bin"}});
  EXPECT_THAT(plan.environment(), ElementsAre("PATH=/opt/bin", "A=2", "EMPTY=", "JOBTAPE_JOB_ID=x"));
  EXPECT_THAT(plan.candidates(), ElementsAre("/opt/bin/cc"));  // the PATH the process will have
}

TEST(ExecPlan, ResolveFindsTheFirstExecutableAndTellsNotFoundFromNotExecutable) {
  ExecPlan plan = ExecPlan::build(recipeFor("sh", {{"PATH", "/nonexistent:/bin"}}), {});
  ExecPlan::Resolved found = plan.resolve();
  ASSERT_NE(found.path, nullptr);
  EXPECT_STREQ(found.path, "/bin/sh");

  ExecPlan missing = ExecPlan::build(recipeFor("jobtape-no-such-program", {{"PATH", "/bin"}}), {});
  EXPECT_EQ(missing.resolve().path, nullptr);
  EXPECT_EQ(missing.resolve().error, ENOENT);

  ExecPlan notExecutable = ExecPlan::build(recipeFor("passwd", {{"PATH", "/etc"}}), {});  // /etc/passwd: 0644
  EXPECT_EQ(notExecutable.resolve().path, nullptr);
  EXPECT_EQ(notExecutable.resolve().error, EACCES);
}

}  // namespace
}  // namespace jobtape::sandbox
