// What failed, as the build tool ran it, in the shapes builds fail in: a
// nested make, a failing `sh -c` in a recipe, a test binary run by ctest, and
// a job stopped by its timeout. Registered as the caller and as nobody.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/inspect/json_testing.h"
#include "tests/cli_actions/actions_fixture.h"
#include "tests/cli_failed/failed_builds.h"

namespace jobtape::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// argv[0] of each process of the chain of the one failed process.
std::vector<std::string> chainOf(const ActionsHome& home) {
  ProcessResult json = home.jobtape({"job", "show", "--json"});
  ParsedJson parsed(json.out);
  auto failed = member(parsed.root(), "failed_processes")->getArray();
  std::vector<std::string> chain;
  if (failed.size() != 1) return chain;
  for (auto process : member(failed[0], "chain")->getArray()) {
    auto argv = member(process, "argv")->getArray();
    std::string words;
    for (auto word : argv) words += (words.empty() ? "" : " ") + std::string(word.getString().begin(), word.getString().end());
    chain.push_back(words);
  }
  return chain;
}

TEST(WhatFailedCases, NestedMakeIsTheCompilerInTheInnerDirectory) {
  ActionsHome home;
  writeFile(home.project() / "Makefile", "all:\n\t$(MAKE) -C sub\n");
  writeFile(home.project() / "sub" / "Makefile", "all:\n\t$(MAKE) -C inner\n");
  writeFile(home.project() / "sub" / "inner" / "Makefile", "bad.o: bad.c\n\tcc -c bad.c -o bad.o\n");
  writeFile(home.project() / "sub" / "inner" / "bad.c", "int f(void) { return nope; }\n");
  ProcessResult run = home.jobtape({"run", "--", "make"});
  ASSERT_EQ(run.exitStatus, 2) << run.err;
  EXPECT_THAT(summaryCommands(run.err), ElementsAre("exit 1  cc -c bad.c -o bad.o")) << run.err;
  EXPECT_THAT(run.err, HasSubstr(" in ./sub/inner\n"));
  EXPECT_THAT(chainOf(home), ElementsAre("make", "make -C sub", "make -C inner", "cc -c bad.c -o bad.o"));
}

TEST(WhatFailedCases, AFailingShellInARecipeIsThatShell) {
  ActionsHome home;
  writeFile(home.project() / "Makefile",
            "all: check\n\techo never\n"
            "check:\n\tsh -c 'echo checking the configuration; test -f config.h'\n");
  ProcessResult run = home.jobtape({"run", "--", "make"});
  ASSERT_EQ(run.exitStatus, 2) << run.err;
  EXPECT_THAT(summaryCommands(run.err),
              ElementsAre("exit 1  sh -c 'echo checking the configuration; test -f config.h'"))
      << run.err;
  EXPECT_THAT(run.err, HasSubstr("│ checking the configuration\n"));
}

TEST(WhatFailedCases, ATestBinaryRunByCtest) {
  ActionsHome home;
  writeCmakeProject(home.project(), true);
  ProcessResult run = home.jobtape(
      {"run", "--", "sh", "-c",
       "cmake -S . -B build -G Ninja >/dev/null && cmake --build build >/dev/null && cd build && ctest --output-on-failure"});
  ASSERT_EQ(run.exitStatus, 8) << run.err;
  EXPECT_THAT(summaryCommands(run.err), ElementsAre("exit 1  " + (home.project() / "build" / "failing_test").string()))
      << run.err;
  // ctest prints a failing test's output after it ended; a line read in the
  // same turn as the end may be stamped either side of it.
  EXPECT_THAT(run.err, ::testing::ContainsRegex("    (╎|│) expected 3, got 4\n")) << run.err;
  auto chain = chainOf(home);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_THAT(chain[1], ::testing::StartsWith("ctest"));
}

// The directory recorded at exec is the one inside the sandbox, also in
// its private /tmp, which a failed job keeps for debug-shell.
TEST(WhatFailedCases, TheDirectoryIsTheOneInsideTheSandbox) {
  ActionsHome home;
  ProcessResult run = home.record("mkdir -p /tmp/work/here && cd /tmp/work/here && sh -c 'echo half done; exit 3'");
  ASSERT_EQ(run.exitStatus, 3) << run.err;
  EXPECT_THAT(summaryCommands(run.err), ElementsAre("exit 3  sh -c 'echo half done; exit 3'")) << run.err;
  EXPECT_THAT(run.err, HasSubstr(" in /tmp/work/here\n"));
  int pid = suggestedProcess(run.err);
  ProcessResult pwd = home.jobtape({"job", "debug-shell", "--process", std::to_string(pid), "--", "pwd"});
  EXPECT_EQ(pwd.exitStatus, 0) << pwd.err;
  EXPECT_EQ(pwd.out, "/tmp/work/here\n");
  ProcessResult again = home.jobtape({"job", "debug-shell", "--process", std::to_string(pid), "--"});
  EXPECT_EQ(again.exitStatus, 3) << again.err;
  EXPECT_EQ(again.out, "half done\n");
}

TEST(WhatFailedCases, ATimeoutIsWhatWasRunningWhenTheTimeRanOut) {
  ActionsHome home;
  writeFile(home.project() / "Makefile", "all:\n\techo started; sleep 30\n");
  ProcessResult run = home.jobtape({"run", "--timeout", "1", "--", "make"});
  ASSERT_EQ(run.exitStatus, 124) << run.err;
  EXPECT_THAT(summaryCommands(run.err), ElementsAre("killed by SIGTERM  sleep 30")) << run.err;
  EXPECT_THAT(run.err, HasSubstr("timed out"));
}

}  // namespace
}  // namespace jobtape::testing
