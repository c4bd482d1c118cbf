// The binary's front door: version, help, and bad usage.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/common/jobtape_process.h"

using jobtape::testing::runJobtape;
using jobtape::testing::runProgram;
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

namespace {

// One line, exit 2, and no parser wording.
void expectUsageLine(const jobtape::testing::ProcessResult& result, const std::string& line) {
  EXPECT_EQ(result.exitStatus, 2) << result.err;
  EXPECT_EQ(result.err, line + "\n");
  EXPECT_EQ(result.out, "");
}

}  // namespace

TEST(CliBasic, UnknownCommandsAreNamedWithTheClosestReal) {
  TempDir home;
  expectUsageLine(runJobtape(home.path(), {"job", "shwo"}),
                  "jobtape: error: unknown command 'shwo' for 'jobtape job'; did you mean 'show'? "
                  "see 'jobtape job --help'");
  expectUsageLine(runJobtape(home.path(), {"frobnicate"}),
                  "jobtape: error: unknown command 'frobnicate' for 'jobtape'; see 'jobtape --help'");
  expectUsageLine(runJobtape(home.path(), {"build", "lsit"}),
                  "jobtape: error: unknown command 'lsit' for 'jobtape build'; did you mean 'list'? "
                  "see 'jobtape build --help'");
  expectUsageLine(runJobtape(home.path(), {"job"}),
                  "jobtape: error: 'jobtape job' needs a command: list, show, logs, replay, debug-shell, retry; "
                  "see 'jobtape job --help'");
}

TEST(CliBasic, HelpCommandPrintsTheHelpOfTheCommandNamed) {
  TempDir home;
  auto top = runJobtape(home.path(), {"help"});
  EXPECT_EQ(top.exitStatus, 0) << top.err;
  EXPECT_THAT(top.out, HasSubstr("Usage: jobtape"));
  auto show = runJobtape(home.path(), {"help", "job", "show"});
  EXPECT_EQ(show.exitStatus, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("Usage: jobtape job show"));
  EXPECT_EQ(show.out, runJobtape(home.path(), {"job", "show", "--help"}).out);
  expectUsageLine(runJobtape(home.path(), {"help", "jbo"}),
                  "jobtape: error: unknown command 'jbo' for 'jobtape'; did you mean 'job'? see 'jobtape help'");
}

TEST(CliBasic, UnknownOptionsHaveOneWordingEverywhere) {
  TempDir home;
  expectUsageLine(runJobtape(home.path(), {"--frob"}),
                  "jobtape: error: unknown option '--frob' for 'jobtape'; see 'jobtape --help'");
  expectUsageLine(runJobtape(home.path(), {"job", "list", "--frob"}),
                  "jobtape: error: unknown option '--frob' for 'jobtape job list'; see 'jobtape job list --help'");
  expectUsageLine(runJobtape(home.path(), {"job", "show", "--jsn"}),
                  "jobtape: error: unknown option '--jsn' for 'jobtape job show'; did you mean '--json'? "
                  "see 'jobtape job show --help'");
  expectUsageLine(runJobtape(home.path(), {"run", "--netwrok", "--", "true"}),
                  "jobtape: error: unknown option '--netwrok' for 'jobtape run'; did you mean '--network'? "
                  "see 'jobtape run --help'");
  // A global option after the command: where it goes, as for git -C.
  expectUsageLine(runJobtape(home.path(), {"job", "list", "--home", "/elsewhere"}),
                  "jobtape: error: unknown option '--home' for 'jobtape job list'; it is an option of 'jobtape': "
                  "put it before the command, e.g. 'jobtape --home … job list'");
}

TEST(CliBasic, BadValuesSayWhatTheOptionWants) {
  TempDir home;
  expectUsageLine(runJobtape(home.path(), {"job", "list", "--limit", "abc"}),
                  "jobtape: error: option '--limit' wants a number (e.g. --limit 20), not 'abc'; "
                  "see 'jobtape job list --help'");
  auto missing = runProgram({jobtape::testing::jobtapeBinary().string(), "--home"});
  expectUsageLine(missing, "jobtape: error: option '--home' needs a value; see 'jobtape --help'");
  auto tail = runJobtape(home.path(), {"job", "logs", "--tail", "-1"});
  EXPECT_EQ(tail.exitStatus, 2);
  EXPECT_THAT(tail.err, StartsWith("jobtape: error: option '--tail' wants a number of lines"));
}

TEST(CliBasic, HelpShowsNoParserVocabulary) {
  TempDir home;
  for (std::vector<std::string> words : {std::vector<std::string>{"run", "--help"}, {"job", "logs", "--help"},
                                         {"gc", "--help"}, {"build", "check", "--help"}}) {
    auto result = runJobtape(home.path(), words);
    EXPECT_EQ(result.exitStatus, 0);
    for (const char* word : {"Excludes", "Needs", "REQUIRED", "TEXT"}) {
      EXPECT_THAT(result.out, ::testing::Not(HasSubstr(word))) << words[0];
    }
  }
}

TEST(CliBasic, WordsFromTheCommandLineAreEscapedInErrors) {
  TempDir home;
  auto result = runJobtape(home.path(), {"job", "\x1b]0;owned\x07"});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_EQ(result.err.find('\x1b'), std::string::npos) << result.err;
  EXPECT_THAT(result.err, HasSubstr("\\x1b]0;owned\\x07"));
}
