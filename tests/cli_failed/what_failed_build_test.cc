// What failed, on real builds with one broken file under `jobtape run`: a
// multi-directory C project built with make -j2 and a cmake + ninja project.
// The summary names the broken compiler command and its error, `job show`
// and `job show --processes --failed` agree with it, and `job debug-shell
// --process` runs it again. Registered as the caller and as nobody.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>

#include "recorder/inspect/json_testing.h"
#include "tests/cli_actions/actions_fixture.h"
#include "tests/cli_failed/failed_builds.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> argvOf(capnp::JsonValue::Reader process) {
  std::vector<std::string> argv;
  for (auto word : member(process, "argv")->getArray()) {
    argv.emplace_back(word.getString().begin(), word.getString().end());
  }
  return argv;
}

class BrokenMakeBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    writeMakeProject(home_.project());
    run_ = home_.jobtape({"run", "--", "make", "-j2"});
    ASSERT_EQ(run_.exitStatus, 2) << run_.err;
  }
  ActionsHome home_;
  ProcessResult run_;
};

TEST_F(BrokenMakeBuild, TheSummaryNamesTheBrokenCompilerCommandAndItsError) {
  EXPECT_THAT(summaryCommands(run_.err), ElementsAre("exit 1  " + kBrokenMakeCommand)) << run_.err;
  EXPECT_THAT(run_.err, HasSubstr("broken.c:2:10: error:"));
  EXPECT_THAT(run_.err, HasSubstr("undefined_thing"));
  EXPECT_THAT(run_.err, HasSubstr(" in ./app\n")) << "below the job's work dir";
  // Before the hint line, and short however the build went.
  auto summary = run_.err.find("1 command failed");
  auto hint = run_.err.find("jobtape: job ");
  ASSERT_NE(summary, std::string::npos) << run_.err;
  ASSERT_NE(hint, std::string::npos) << run_.err;
  EXPECT_LT(summary, hint);
  std::string tail = run_.err.substr(summary);
  EXPECT_LE(std::count(tail.begin(), tail.end(), '\n'), 15) << tail;
  EXPECT_THAT(tail, HasSubstr("see: jobtape --home " + home_.home().string() + " job show"));
}

TEST_F(BrokenMakeBuild, JobShowAndTheFailedChainsAgreeWithTheSummary) {
  int pid = suggestedProcess(run_.err);
  ASSERT_GT(pid, 0) << run_.err;
  ProcessResult show = home_.jobtape({"job", "show"});
  ASSERT_EQ(show.exitStatus, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("outcome    exited with status 2\nfailed     exit 1  " + kBrokenMakeCommand + "\n"));
  EXPECT_THAT(show.out, HasSubstr(fmt::format("pid {}, in ./app, started at", pid)));
  EXPECT_THAT(show.out, HasSubstr("ran by  make -C app (pid "));
  EXPECT_THAT(show.out, HasSubstr("undefined_thing"));
  EXPECT_THAT(show.out, Not(HasSubstr("PATH="))) << "the environment only with --env";
  EXPECT_THAT(home_.jobtape({"job", "show", "--env"}).out, HasSubstr("PATH="));

  ProcessResult tree = home_.jobtape({"job", "show", "--processes", "--failed"});
  ASSERT_EQ(tree.exitStatus, 0) << tree.err;
  std::string rows = tree.out.substr(tree.out.find("PID "));
  std::vector<std::string> rowLines = lines(rows);
  auto compiler = std::find_if(rowLines.begin(), rowLines.end(),
                               [](const std::string& line) { return line.ends_with("─ " + kBrokenMakeCommand); });
  ASSERT_NE(compiler, rowLines.end()) << rows;
  EXPECT_EQ(std::stoi(*compiler), pid) << "the tree's failing compiler is the summary's";
  EXPECT_THAT(*compiler, HasSubstr(" 1       ")) << "its exit status";
  EXPECT_THAT(rows, HasSubstr("make -j2\n"));
  EXPECT_THAT(rows, HasSubstr("make -C app\n"));
  EXPECT_THAT(rows, HasSubstr("cc1"));
  for (const char* fine : {"one.c", "two.c", "main.c", "make -C lib"}) EXPECT_THAT(rows, Not(HasSubstr(fine))) << fine;

  ProcessResult json = home_.jobtape({"job", "show", "--json"});
  ASSERT_EQ(json.exitStatus, 0) << json.err;
  ParsedJson parsed(json.out);
  auto failed = member(parsed.root(), "failed_processes")->getArray();
  ASSERT_EQ(failed.size(), 1u) << json.out;
  auto process = *member(failed[0], "process");
  EXPECT_EQ(numberMember(process, "pid"), pid);
  EXPECT_EQ(argvOf(process), (std::vector<std::string>{"cc", "-O0", "-Wall", "-c", "broken.c", "-o", "broken.o"}));
  EXPECT_EQ(stringMember(process, "cwd"), (home_.project() / "app").string());
  EXPECT_EQ(numberMember(process, "exit_code"), 1);
  EXPECT_EQ(stringMember(failed[0], "command_line"), kBrokenMakeCommand);
  EXPECT_GE(member(failed[0], "chain")->getArray().size(), 3u);
  EXPECT_THAT(json.out, HasSubstr("PATH")) << "--json has the recipe's environment always";
}

TEST_F(BrokenMakeBuild, DebugShellAtTheProcessRunsItAgainWithTheCompilersStatus) {
  int pid = suggestedProcess(run_.err);
  ASSERT_GT(pid, 0) << run_.err;
  ProcessResult again = home_.jobtape({"job", "debug-shell", "--process", std::to_string(pid), "--"});
  EXPECT_EQ(again.exitStatus, 1) << again.err;
  EXPECT_THAT(again.err, HasSubstr("in " + (home_.project() / "app").string() + "; running it again:\n  " +
                                   kBrokenMakeCommand + "\n"));
  EXPECT_THAT(again.err, HasSubstr("undefined_thing"));
  // A command of one's own runs in the process's directory too.
  ProcessResult pwd = home_.jobtape({"job", "debug-shell", "--process", std::to_string(pid), "--", "pwd"});
  EXPECT_EQ(pwd.exitStatus, 0) << pwd.err;
  EXPECT_EQ(pwd.out, (home_.project() / "app").string() + "\n");
}

TEST_F(BrokenMakeBuild, RetrySaysWhatFailedToo) {
  ProcessResult retry = home_.jobtape({"job", "retry"});
  EXPECT_EQ(retry.exitStatus, 2) << retry.err;
  EXPECT_THAT(summaryCommands(retry.err), ElementsAre("exit 1  " + kBrokenMakeCommand)) << retry.err;
  EXPECT_THAT(retry.err, HasSubstr("undefined_thing"));
}

TEST_F(BrokenMakeBuild, AtATerminalTheCommandIsInTheShellsHistory) {
  int pid = suggestedProcess(run_.err);
  ASSERT_GT(pid, 0) << run_.err;
  TerminalRun terminal(home_, {"job", "debug-shell", "--process", std::to_string(pid)});
  ASSERT_TRUE(terminal.waitFor("Up + Enter runs it again")) << terminal.output();
  // Up + Enter; typeahead may be dropped while the shell starts, as on a
  // real terminal, so until the compiler answers.
  bool ran = false;
  for (int attempt = 0; attempt < 30 && !ran; ++attempt) {
    size_t mark = terminal.output().size();
    terminal.send("\x1b[A\n");
    ran = terminal.waitFor("undefined_thing", mark, std::chrono::seconds(2));
  }
  ASSERT_TRUE(ran) << terminal.output();
  size_t mark = terminal.output().size();
  terminal.send("echo \"status=$?\"; pwd\n");
  EXPECT_TRUE(terminal.waitFor("status=1\r\n" + (home_.project() / "app").string() + "\r\n", mark))
      << terminal.output();
  terminal.send("exit\n");
  EXPECT_EQ(terminal.wait(), 0) << terminal.output();
}

TEST(BrokenCmakeBuild, TheSummaryNamesTheNinjaCommandAndItsError) {
  ActionsHome home;
  writeCmakeProject(home.project());
  ProcessResult run =
      home.jobtape({"run", "--", "sh", "-c", "cmake -S . -B build -G Ninja >/dev/null && cmake --build build"});
  ASSERT_EQ(run.exitStatus, 1) << run.err;
  auto commands = summaryCommands(run.err);
  ASSERT_EQ(commands.size(), 1u) << run.err;
  EXPECT_THAT(commands[0], HasSubstr("exit 1  cc … "));
  EXPECT_THAT(commands[0], HasSubstr(" -c "));
  EXPECT_THAT(commands[0], HasSubstr("broken.c"));
  EXPECT_THAT(run.err, HasSubstr("broken.c:2:10: error:"));

  ProcessResult json = home.jobtape({"job", "show", "--json"});
  ParsedJson parsed(json.out);
  auto failed = member(parsed.root(), "failed_processes")->getArray();
  ASSERT_EQ(failed.size(), 1u) << json.out;
  auto process = *member(failed[0], "process");
  auto argv = argvOf(process);
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv.back(), (home.project() / "src" / "app" / "broken.c").string());
  EXPECT_EQ(argv[argv.size() - 2], "-c");
  EXPECT_EQ(stringMember(process, "cwd"), (home.project() / "build").string());
  std::vector<std::string> chain;
  for (auto up : member(failed[0], "chain")->getArray()) chain.push_back(argvOf(up).front());
  EXPECT_THAT(chain, ::testing::Contains("cmake"));
  EXPECT_THAT(chain, ::testing::Contains(::testing::EndsWith("ninja")));

  ProcessResult tree = home.jobtape({"job", "show", "--processes", "--failed", "--wide"});
  std::string rows = tree.out.substr(std::min(tree.out.find("\nPID "), tree.out.size()));
  EXPECT_THAT(rows, HasSubstr("-c " + (home.project() / "src" / "app" / "broken.c").string() + "\n"));
  EXPECT_THAT(rows, Not(HasSubstr("one.c")));

  int pid = suggestedProcess(run.err);
  ASSERT_EQ(pid, static_cast<int>(numberMember(process, "pid")));
  ProcessResult again = home.jobtape({"job", "debug-shell", "--process", std::to_string(pid), "--"});
  EXPECT_EQ(again.exitStatus, 1) << again.err;
  EXPECT_THAT(again.err, HasSubstr("undefined_thing"));
}

}  // namespace
}  // namespace jobtape::testing
