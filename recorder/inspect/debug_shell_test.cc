#include "recorder/inspect/debug_shell.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "recorder/events/event_writer.h"
#include "recorder/inspect/actions_test_store.h"

namespace jobtape::recorder {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

sandbox::Recipe sampleRecipe(const fs::path& project) {
  sandbox::Recipe recipe;
  recipe.command = "make";
  recipe.args = {"all"};
  recipe.env = {{"PATH", "/usr/bin:/bin"}, {"SHELL", "/bin/bash"}};
  recipe.workDir = project.string();
  recipe.mounts = {{sandbox::Mount::Kind::roBind, "/", "/"},
                   {sandbox::Mount::Kind::bind, project.string(), project.string()},
                   {sandbox::Mount::Kind::tmpfs, "", "/tmp"}};
  recipe.limits.timeoutMs = 5000;
  recipe.limits.cpuSeconds = 10;
  recipe.limits.memoryBytes = 1 << 30;
  return recipe;
}

class DebugShellPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    jobDir_ = home_.path() / "jobs" / "01JD4X7QAB0000000000000000";
    fs::create_directories(jobDir_ / "state" / "tmp");
    job_.id = "01JD4X7QAB0000000000000000";
    job_.status = store::JobStatus::failed;
    job_.exitCode = 2;
    job_.outcome = "exited";
    job_.localPath = jobDir_.string();
    job_.stateKept = true;
    job_.recipeMeta = sandbox::recipeToJson(sampleRecipe("/src/app"));
  }

  testing::ScratchHome home_;
  fs::path jobDir_;
  store::JobRow job_;
};

TEST_F(DebugShellPlanTest, RebuildsTheRecordedSandboxWithAShell) {
  auto plan = planDebugShell(home_.path(), job_, {{}, true, "xterm-256color"});
  EXPECT_EQ(plan.options.stateDir, jobDir_ / "state");
  EXPECT_TRUE(plan.options.reuseState);
  EXPECT_EQ(plan.options.stdio, sandbox::StdioMode::terminal);
  EXPECT_EQ(plan.recipe.command, "/bin/bash") << "$SHELL exists inside (the host's / is bound)";
  EXPECT_TRUE(plan.recipe.args.empty());
  EXPECT_EQ(plan.recipe.workDir, "/src/app");
  EXPECT_EQ(plan.recipe.mounts, sampleRecipe("/src/app").mounts);
  EXPECT_EQ(plan.recipe.env, sampleRecipe("/src/app").env);
  EXPECT_EQ(plan.recipe.limits.timeoutMs, 0u) << "no deadline for a person at a prompt";
  EXPECT_EQ(plan.recipe.limits.cpuSeconds, 0u);
  EXPECT_EQ(plan.recipe.limits.memoryBytes, 1u << 30) << "other limits stay as the job had them";
  EXPECT_EQ(plan.writableBinds, std::vector<std::string>{"/src/app"});
  bool term = false;
  for (const auto& var : plan.options.extraEnv) term |= var.name == "TERM" && var.value == "xterm-256color";
  EXPECT_TRUE(term);
}

TEST_F(DebugShellPlanTest, ACommandReplacesTheShellAndStdioIsInheritedWithoutATerminal) {
  auto plan = planDebugShell(home_.path(), job_, {{"cat", "/tmp/marker"}, false, "xterm"});
  EXPECT_EQ(plan.recipe.command, "cat");
  EXPECT_EQ(plan.recipe.args, std::vector<std::string>{"/tmp/marker"});
  EXPECT_EQ(plan.options.stdio, sandbox::StdioMode::inherit);
  EXPECT_TRUE(plan.shell.empty());
  for (const auto& var : plan.options.extraEnv) EXPECT_NE(var.name, "TERM");
}

TEST_F(DebugShellPlanTest, FallsBackToBinShWhenShellIsNotInside) {
  auto recipe = sampleRecipe("/src/app");
  recipe.mounts = {{sandbox::Mount::Kind::roBind, "/usr", "/usr"}, {sandbox::Mount::Kind::roBind, "/bin", "/bin"}};
  recipe.env = {{"SHELL", "/opt/nothing/zsh"}};
  job_.recipeMeta = sandbox::recipeToJson(recipe);
  EXPECT_EQ(planDebugShell(home_.path(), job_, {}).recipe.command, "/bin/sh");
}

TEST_F(DebugShellPlanTest, BannerNamesTheJobAndTheRealChanges) {
  auto plan = planDebugShell(home_.path(), job_, {{}, true, ""});
  auto banner = debugShellBanner(plan, "01JD4X7Q");
  EXPECT_THAT(banner, HasSubstr("job 01JD4X7Q (failed: exit 2)"));
  EXPECT_THAT(banner, HasSubstr("/tmp as the job left it"));
  EXPECT_THAT(banner, HasSubstr("changes under /src/app are real"));
  EXPECT_THAT(banner, Not(HasSubstr("\n")));
}

TEST_F(DebugShellPlanTest, RefusesASucceededJobWithoutKeptState) {
  job_.status = store::JobStatus::succeeded;
  job_.exitCode = 0;
  job_.stateKept = false;
  try {
    planDebugShell(home_.path(), job_, {});
    FAIL() << "planned a succeeded job";
  } catch (const DebugShellRefused& refused) {
    EXPECT_THAT(refused.what(), HasSubstr("succeeded"));
    EXPECT_THAT(refused.hint(), HasSubstr("retry"));
  }
}

TEST_F(DebugShellPlanTest, AcceptsASucceededJobWhoseStateWasKept) {
  job_.status = store::JobStatus::succeeded;
  job_.stateKept = true;
  EXPECT_NO_THROW(planDebugShell(home_.path(), job_, {}));
}

TEST_F(DebugShellPlanTest, RefusesWhenTheStateIsGone) {
  fs::remove_all(jobDir_ / "state");
  EXPECT_THROW(planDebugShell(home_.path(), job_, {}), DebugShellRefused);
}

TEST_F(DebugShellPlanTest, RefusesAStateDirThatIsASymlink) {
  fs::remove_all(jobDir_ / "state");
  fs::create_directory_symlink("/", jobDir_ / "state");
  EXPECT_THROW(planDebugShell(home_.path(), job_, {}), DebugShellRefused);
}

TEST_F(DebugShellPlanTest, RefusesARunningJob) {
  job_.status = store::JobStatus::running;
  EXPECT_THROW(planDebugShell(home_.path(), job_, {}), DebugShellRefused);
}

TEST_F(DebugShellPlanTest, RefusesARecordOnlyJob) {
  auto recipe = sampleRecipe("/src/app");
  recipe.sandboxed = false;
  job_.recipeMeta = sandbox::recipeToJson(recipe);
  try {
    planDebugShell(home_.path(), job_, {});
    FAIL() << "planned a job that had no sandbox";
  } catch (const DebugShellRefused& refused) {
    EXPECT_THAT(refused.what(), HasSubstr("without a sandbox"));
  }
}

TEST_F(DebugShellPlanTest, RefusesAnUnreadableRecipe) {
  job_.recipeMeta = "{not json";
  EXPECT_THROW(planDebugShell(home_.path(), job_, {}), DebugShellRefused);
}

TEST_F(DebugShellPlanTest, RefusesARowWhoseDirectoryIsNotTheJobsOwn) {
  fs::path elsewhere = home_.path() / "elsewhere";
  fs::create_directories(elsewhere / "state");
  job_.localPath = elsewhere.string();
  try {
    planDebugShell(home_.path(), job_, {});
    FAIL() << "planned a job through a directory outside jobs/";
  } catch (const DebugShellRefused& refused) {
    EXPECT_THAT(refused.what(), HasSubstr("is damaged"));
  }
  job_.localPath.clear();
  job_.id = "../../../../x";
  EXPECT_THROW(planDebugShell(home_.path(), job_, {}), DebugShellRefused);
}

// More than a run gives: the root, the store or anything above it bound
// read-write. A read-write bind of the project is what a run gives.
TEST_F(DebugShellPlanTest, RefusesARecipeBindingTheRootOrTheStoreReadWrite) {
  for (const std::string& source : {std::string("/"), home_.path().string(), home_.path().parent_path().string(),
                                    (home_.path() / "jobs").string(), std::string("/usr/..")}) {
    auto recipe = sampleRecipe("/src/app");
    recipe.mounts.push_back({sandbox::Mount::Kind::bind, source, "/mnt"});
    job_.recipeMeta = sandbox::recipeToJson(recipe);
    EXPECT_THROW(planDebugShell(home_.path(), job_, {}), DebugShellRefused) << source;
    EXPECT_THROW(readRecordedRecipe(job_, home_.path()), DebugShellRefused) << source;
  }
  auto recipe = sampleRecipe("/src/app");
  recipe.mounts.push_back({sandbox::Mount::Kind::roBind, home_.path().string(), "/mnt"});
  job_.recipeMeta = sandbox::recipeToJson(recipe);
  EXPECT_NO_THROW(readRecordedRecipe(job_, home_.path())) << "read-only is what the host view gives anyway";
}

// --process PID: the job's events file says where each process ran what.
class DebugShellAtAProcessTest : public DebugShellPlanTest {
 protected:
  void SetUp() override {
    DebugShellPlanTest::SetUp();
    JobDescription description;
    description.jobId = job_.id;
    description.recipe = sampleRecipe("/src/app");
    auto writer = EventWriter::create(jobDir_ / "events.bin.zst", description);
    writer->exec({0, 2, 1, "/usr/bin/make", {"make", "all"}, "/src/app"});
    writer->exec({1, 7, 2, "/usr/bin/cc", {"cc", "-c", "ok.c"}, "/src/app/lib"});
    writer->processExit({2, 7, true, 0, 0});
    writer->exec({3, 7, 2, "/usr/bin/cc", {"cc", "-c", "bad file.c"}, "/src/app/lib"});
    writer->processExit({4, 7, true, 1, 0});
    writer->processExit({5, 2, true, 2, 0});
    sandbox::RunResult result;
    result.exitCode = 2;
    writer->finish(result);
  }

  DebugShellRequest atProcess(int32_t pid, bool rerun = false, std::vector<std::string> command = {}) {
    DebugShellRequest request;
    request.command = std::move(command);
    request.terminal = true;
    request.process = pid;
    request.rerun = rerun;
    return request;
  }
};

TEST_F(DebugShellAtAProcessTest, AShellInItsDirectoryWithItsCommandInTheHistory) {
  fs::path historyFile;
  {
    auto plan = planDebugShell(home_.path(), job_, atProcess(7));
    EXPECT_EQ(plan.recipe.command, "/bin/bash");
    EXPECT_EQ(plan.recipe.workDir, "/src/app/lib");
    ASSERT_TRUE(plan.process);
    EXPECT_EQ(plan.process->commandLine, "cc -c 'bad file.c'") << "the failing one of the two processes with pid 7";
    EXPECT_EQ(plan.process->status, "exit 1");
    ASSERT_TRUE(plan.history);
    historyFile = plan.history->path();
    std::ifstream in(historyFile);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "cc -c 'bad file.c'");
    ASSERT_FALSE(plan.recipe.mounts.empty());
    EXPECT_EQ(plan.recipe.mounts.back().source, historyFile.string());
    EXPECT_EQ(plan.recipe.mounts.back().destination, kHistoryPath);
    bool histfile = false;
    for (const auto& var : plan.options.extraEnv) histfile |= var.name == "HISTFILE" && var.value == kHistoryPath;
    EXPECT_TRUE(histfile);
    EXPECT_EQ(plan.writableBinds, std::vector<std::string>{"/src/app"}) << "the history file is no host directory";
    auto lines = debugShellProcessLines(plan);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "jobtape: process 7 (exit 1), in /src/app/lib; Up + Enter runs it again:");
    EXPECT_EQ(lines[1], "  cc -c 'bad file.c'");
  }
  EXPECT_FALSE(fs::exists(historyFile)) << "removed with the plan";
}

TEST_F(DebugShellAtAProcessTest, ABareMarkRunsItsCommandAgain) {
  auto plan = planDebugShell(home_.path(), job_, atProcess(7, true));
  EXPECT_EQ(plan.recipe.command, "cc");
  EXPECT_EQ(plan.recipe.args, (std::vector<std::string>{"-c", "bad file.c"}));
  EXPECT_EQ(plan.recipe.workDir, "/src/app/lib");
  EXPECT_TRUE(plan.shell.empty());
  EXPECT_FALSE(plan.history);
  EXPECT_THAT(debugShellProcessLines(plan).front(), HasSubstr("running it again"));
}

TEST_F(DebugShellAtAProcessTest, ACommandRunsInItsDirectory) {
  auto plan = planDebugShell(home_.path(), job_, atProcess(2, false, {"ls"}));
  EXPECT_EQ(plan.recipe.command, "ls");
  EXPECT_EQ(plan.recipe.workDir, "/src/app");
  EXPECT_FALSE(plan.history);
}

TEST_F(DebugShellAtAProcessTest, AShellWithoutHistoryGivesWayToBash) {
  auto recipe = sampleRecipe("/src/app");
  recipe.env = {{"PATH", "/usr/bin:/bin"}, {"SHELL", "/bin/sh"}};
  job_.recipeMeta = sandbox::recipeToJson(recipe);
  EXPECT_EQ(planDebugShell(home_.path(), job_, atProcess(7)).recipe.command, "/bin/bash");
  DebugShellRequest plain;
  plain.terminal = true;
  EXPECT_EQ(planDebugShell(home_.path(), job_, plain).recipe.command, "/bin/sh") << "without --process, $SHELL";
}

TEST_F(DebugShellAtAProcessTest, RefusesAPidTheJobNeverHad) {
  try {
    planDebugShell(home_.path(), job_, atProcess(99));
    FAIL() << "planned a process that never ran";
  } catch (const DebugShellRefused& refused) {
    EXPECT_THAT(refused.what(), HasSubstr("no process with pid 99"));
    EXPECT_THAT(refused.hint(), HasSubstr("job show --processes"));
  }
}

TEST_F(DebugShellAtAProcessTest, RefusesAnEventsFileOfAnotherJob) {
  fs::remove(jobDir_ / "events.bin.zst");
  JobDescription other;
  other.jobId = "01JD4X7QAB0000000000000001";
  auto writer = EventWriter::create(jobDir_ / "events.bin.zst", other);
  writer->exec({0, 7, 1, "/usr/bin/rm", {"rm", "-rf", "/"}, "/"});
  writer->finish({});
  EXPECT_THROW(planDebugShell(home_.path(), job_, atProcess(7)), DebugShellRefused);
}

TEST(HostPathOf, TheLastMountCoveringThePathWins) {
  sandbox::Recipe recipe;
  recipe.mounts = {{sandbox::Mount::Kind::roBind, "/", "/"},
                   {sandbox::Mount::Kind::roBind, "/opt/toolchain", "/usr"},
                   {sandbox::Mount::Kind::tmpfs, "", "/usr/tmp"},
                   {sandbox::Mount::Kind::bind, "/home/me/src", ""}};
  EXPECT_EQ(hostPathOf(recipe, "/bin/sh"), fs::path("/bin/sh"));
  EXPECT_EQ(hostPathOf(recipe, "/usr/bin/cc"), fs::path("/opt/toolchain/bin/cc"));
  EXPECT_EQ(hostPathOf(recipe, "/usr"), fs::path("/opt/toolchain"));
  EXPECT_EQ(hostPathOf(recipe, "/usrx/y"), fs::path("/usrx/y")) << "a prefix of the name is not a parent";
  EXPECT_FALSE(hostPathOf(recipe, "/usr/tmp/x")) << "tmpfs content is not on the host";
  EXPECT_EQ(hostPathOf(recipe, "/home/me/src/a.c"), fs::path("/home/me/src/a.c"));
  EXPECT_FALSE(hostPathOf(recipe, "relative"));
  sandbox::Recipe bare;
  EXPECT_FALSE(hostPathOf(bare, "/bin/sh"));
}

}  // namespace
}  // namespace jobtape::recorder
