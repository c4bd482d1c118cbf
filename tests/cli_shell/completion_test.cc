// `jobtape completion bash|zsh|fish`: the scripts the build installs, driven
// the way the shells drive them. Bash is run for real: the script is
// sourced, COMP_WORDS set as readline sets it, the completion function
// called and COMPREPLY read back. fish completes through `complete -C`, zsh
// on a pseudo-terminal (zsh_completion_test.cc); both are parsed (-n) too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Single quotes for bash, for the words of COMP_WORDS.
std::string bashWord(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

fs::path findProgram(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"}) {
    if (fs::exists(fs::path(dir) / name)) return fs::path(dir) / name;
  }
  return {};
}

class CompletionTest : public ::testing::Test {
 protected:
  fs::path home() const { return dir_.path() / "home"; }

  std::string script(const std::string& shell) {
    ProcessResult result = runJobtape(home(), {"completion", shell});
    EXPECT_EQ(result.exitStatus, 0) << result.err;
    EXPECT_EQ(result.err, "");
    return result.out;
  }

  // What bash completes for the words typed, the last being the one under
  // the cursor. The program is typed as the binary's path, so its
  // __complete-selectors is the one under test.
  std::vector<std::string> complete(const std::vector<std::string>& typed) {
    std::string words = bashWord(jobtapeBinary().string());
    for (const std::string& word : typed) words += " " + bashWord(word);
    return runCompletion("COMP_WORDS=(" + words + ")\nCOMP_CWORD=" + std::to_string(typed.size()) +
                         "\nCOMP_LINE=\"${COMP_WORDS[*]}\"\n");
  }

  // As complete(), with COMP_WORDS split the way readline splits the line
  // when COMP_WORDBREAKS is `wordbreaks`: each run of its characters : = @
  // is a word of its own, glued to its neighbours on the line.
  std::vector<std::string> completeSplit(const std::vector<std::string>& typed, const std::string& wordbreaks) {
    std::string words = bashWord(jobtapeBinary().string()), line = jobtapeBinary().string();
    size_t count = 0;
    auto isBreak = [&](char c) { return std::string_view(":=@").find(c) != std::string_view::npos &&
                                        wordbreaks.find(c) != std::string::npos; };
    for (const std::string& word : typed) {
      line += " " + word;
      std::vector<std::string> pieces;
      for (size_t at = 0; at < word.size() || pieces.empty(); ) {
        size_t end = at;
        bool breaking = at < word.size() && isBreak(word[at]);
        while (end < word.size() && isBreak(word[end]) == breaking) ++end;
        pieces.push_back(word.substr(at, end - at));
        at = end;
      }
      for (const std::string& piece : pieces) words += " " + bashWord(piece);
      count += pieces.size();
    }
    return runCompletion("COMP_WORDBREAKS=" + bashWord(wordbreaks) + "\nCOMP_WORDS=(" + words + ")\nCOMP_CWORD=" +
                         std::to_string(count) + "\nCOMP_LINE=" + bashWord(line) + "\n");
  }

  std::vector<std::string> runCompletion(const std::string& setup) {
    fs::path file = dir_.path() / "jobtape.bash";
    if (!fs::exists(file)) std::ofstream(file) << script("bash");
    std::string program = "source " + bashWord(file.string()) + " || exit 9\n" + setup +
                          "COMP_POINT=${#COMP_LINE}\n"
                          "_jobtape || exit 8\n"
                          "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    ProcessResult result = runProgram({"/bin/bash", "--norc", "--noprofile", "-c", program});
    EXPECT_EQ(result.exitStatus, 0) << result.err;
    EXPECT_EQ(result.err, "") << program;
    std::vector<std::string> replies = lines(result.out);
    replies.erase(std::remove(replies.begin(), replies.end(), ""), replies.end());
    return replies;
  }

  // SQL straight into the store, as a job that can write it would.
  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((home() / "jobtape.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::vector<std::string> withHome(std::vector<std::string> typed) {
    typed.insert(typed.begin(), {"--home", home().string()});
    return typed;
  }

  TempDir dir_;
};

TEST_F(CompletionTest, BashCompletesCommandsAndSubcommands) {
  EXPECT_THAT(complete({"job", "sh"}), ElementsAre("show"));
  EXPECT_THAT(complete({"job", "d"}), ElementsAre("debug-shell"));
  EXPECT_THAT(complete({"bu"}), ElementsAre("build"));
  EXPECT_THAT(complete({""}), AllOf(Contains("run"), Contains("job"), Contains("build"), Contains("history"),
                                    Contains("gc"), Contains("completion"), Contains("help")));
  EXPECT_THAT(complete({""}), Not(Contains(::testing::StartsWith("__"))));
  // Global options and their values do not stop the walk.
  EXPECT_THAT(complete({"--home", "/nonexistent", "build", "tr"}), ElementsAre("trace"));
}

TEST_F(CompletionTest, BashCompletesOptionsOfTheCommandTyped) {
  EXPECT_THAT(complete({"job", "logs", "--f"}), UnorderedElementsAre("--follow", "--format"));
  EXPECT_THAT(complete({"run", "--no-"}), UnorderedElementsAre("--no-home-overlay", "--no-sandbox", "--no-tty"));
  EXPECT_THAT(complete({"--ve"}), ElementsAre("--version"));
  EXPECT_THAT(complete({"job", "logs", "--format", ""}), UnorderedElementsAre("text", "json", "cast"));
  EXPECT_THAT(complete({"job", "logs", "--format", "c"}), ElementsAre("cast"));
}

TEST_F(CompletionTest, BashCompletesSelectorsFromTheStore) {
  // No store yet: no selector, and no error in the middle of the prompt.
  EXPECT_THAT(complete(withHome({"job", "show", ""})), IsEmpty());

  ProcessResult failed = runJobtape(home(), {"run", "--no-sandbox", "--quiet", "--", "/bin/sh", "-c", "exit 3"});
  ASSERT_EQ(failed.exitStatus, 3) << failed.err;
  ProcessResult ok = runJobtape(home(), {"run", "--no-sandbox", "--quiet", "--", "/bin/true"});
  ASSERT_EQ(ok.exitStatus, 0) << ok.err;
  ProcessResult listed = runJobtape(home(), {"job", "list", "--json"});
  ASSERT_EQ(listed.exitStatus, 0) << listed.err;
  std::vector<std::string> shortIds;
  std::regex shortId("\"short_id\": \"([0-9A-Z]+)\"");
  for (std::sregex_iterator it(listed.out.begin(), listed.out.end(), shortId), end; it != end; ++it) {
    shortIds.push_back((*it)[1]);
  }
  ASSERT_EQ(shortIds.size(), 2u) << listed.out;

  std::vector<std::string> offered = complete(withHome({"job", "show", ""}));
  EXPECT_THAT(offered, AllOf(Contains("failed"), Contains("last"), Contains("-1"), Contains(shortIds[0]),
                             Contains(shortIds[1])));
  EXPECT_THAT(offered, Not(Contains("-2"))) << "one failed job: -2 names none";
  EXPECT_THAT(complete(withHome({"job", "logs", shortIds[1].substr(0, shortIds[1].size() - 1)})),
              Contains(shortIds[1]));
  EXPECT_THAT(complete(withHome({"job", "retry", "la"})), ElementsAre("last"));
  EXPECT_THAT(complete(withHome({"job", "replay", "-"})), Contains("-1"));
  // A command without a job selector offers none.
  EXPECT_THAT(complete(withHome({"build", "list", ""})), IsEmpty());

  // The offered id selects the job it came from.
  ProcessResult shown = runJobtape(home(), {"job", "show", "--json", shortIds[1]});
  EXPECT_EQ(shown.exitStatus, 0) << shown.err;
}

// bash's own COMP_WORDBREAKS, and the same without the colon.
const std::string kWordbreaks = " \t\n\"'@><=;|&(:";
const std::string kWordbreaksNoColon = " \t\n\"'@><=;|&(";

TEST_F(CompletionTest, BashCompletesTheNamesOfRecentJobs) {
  for (const char* name : {"build-1", "build-1", "deploy", "opt=1"}) {
    ProcessResult named = runJobtape(home(), {"run", "--no-sandbox", "--quiet", "--name", name, "--", "/bin/true"});
    ASSERT_EQ(named.exitStatus, 0) << named.err;
  }
  ProcessResult unnamed = runJobtape(home(), {"run", "--no-sandbox", "--quiet", "--", "/bin/true"});
  ASSERT_EQ(unnamed.exitStatus, 0) << unnamed.err;
  ProcessResult selectors = runJobtape(home(), {"__complete-selectors"});
  ASSERT_EQ(selectors.exitStatus, 0) << selectors.err;
  std::vector<std::string> words = lines(selectors.out);
  EXPECT_EQ(std::count(words.begin(), words.end(), "name:build-1"), 1) << selectors.out;
  EXPECT_THAT(words, AllOf(Contains("name:deploy"), Contains("name:opt=1"), Not(Contains("name:"))));

  // ':' breaks words (bash's default): readline replaces what follows it.
  EXPECT_THAT(completeSplit(withHome({"job", "show", "name:bu"}), kWordbreaks), ElementsAre("build-1"));
  EXPECT_THAT(completeSplit(withHome({"job", "show", "name:"}), kWordbreaks),
              UnorderedElementsAre("build-1", "deploy", "opt=1"));
  EXPECT_THAT(completeSplit(withHome({"job", "logs", "name:opt="}), kWordbreaks), ElementsAre("1"));
  EXPECT_THAT(completeSplit(withHome({"job", "show", "name:x"}), kWordbreaks), IsEmpty());
  EXPECT_THAT(completeSplit(withHome({"job", "show", "na"}), kWordbreaks),
              UnorderedElementsAre("name:build-1", "name:deploy", "name:opt=1"));
  // The words before the cursor are rejoined too: name:... is no command.
  EXPECT_THAT(completeSplit(withHome({"job", "show", "name:deploy", "--j"}), kWordbreaks), ElementsAre("--json"));
  // Without ':' in COMP_WORDBREAKS the whole word is replaced.
  EXPECT_THAT(completeSplit(withHome({"job", "show", "name:bu"}), kWordbreaksNoColon), ElementsAre("name:build-1"));
  EXPECT_THAT(completeSplit(withHome({"job", "show", "name:"}), kWordbreaksNoColon),
              UnorderedElementsAre("name:build-1", "name:deploy", "name:opt=1"));

  // The offered selector picks a job.
  ProcessResult shown = runJobtape(home(), {"job", "show", "--json", "name:build-1"});
  EXPECT_EQ(shown.exitStatus, 0) << shown.err;
}

TEST_F(CompletionTest, SelectorsNeverCarryWhatAJobNamedItself) {
  // (run refuses control characters in a name; the shell's own syntax is text.)
  const std::string touch = "touch " + (dir_.path() / "pwned").string();
  const std::string hostile = "$(" + touch + ") `" + touch + "` ';" + touch + "'";
  const std::vector<std::string> names{"ok",   hostile, "build 1", "b$(" + touch + ")", "b`id`", "b'q'", "b\"q\"",
                                       "b;id", "b|id",  "b&",      "b>out",            "b\\n",  "b*",   "b~",
                                       "b#",   "caf\u00e9", "b!",  "ctl-1",            "ctl-2", "ctl-3"};
  for (const std::string& name : names) {
    ProcessResult named = runJobtape(home(), {"run", "--no-sandbox", "--quiet", "--name", name, "--", "/bin/false"});
    ASSERT_EQ(named.exitStatus, 1) << name << ": " << named.err;
  }
  // run refuses control characters; a job that writes the store does not ask.
  sql("UPDATE jobs SET name = 'b' || char(27) || '[2J' WHERE name = 'ctl-1';"
      "UPDATE jobs SET name = 'b' || char(10) || 'id' WHERE name = 'ctl-2';"
      "UPDATE jobs SET name = 'b' || char(9) || char(127) WHERE name = 'ctl-3';");
  ProcessResult selectors = runJobtape(home(), {"__complete-selectors"});
  EXPECT_EQ(selectors.exitStatus, 0) << selectors.err;
  EXPECT_EQ(selectors.err, "");
  std::vector<std::string> words = lines(selectors.out);
  EXPECT_THAT(words, AllOf(Contains("failed"), Contains("name:ok")));
  for (const std::string& word : words) {
    EXPECT_TRUE(std::regex_match(word, std::regex("-?[0-9A-Za-z]+|name:[0-9A-Za-z._+/@,=-]+"))) << word;
  }
  EXPECT_EQ(std::count_if(words.begin(), words.end(), [](const std::string& w) { return w.starts_with("name:"); }), 1)
      << selectors.out;
  std::vector<std::string> offered = complete(withHome({"job", "show", ""}));
  EXPECT_THAT(offered, AllOf(Contains("failed"), Contains("name:ok")));
  EXPECT_THAT(completeSplit(withHome({"job", "show", "name:"}), kWordbreaks), ElementsAre("ok"));
  EXPECT_THAT(completeSplit(withHome({"job", "show", "name:b"}), kWordbreaks), IsEmpty());
  EXPECT_FALSE(fs::exists(dir_.path() / "pwned"));
}

TEST_F(CompletionTest, SelectorsOfAStoreThatCannotBeReadAreNone) {
  fs::create_directories(dir_.path() / "open");
  fs::permissions(dir_.path() / "open", fs::perms::all);  // writable by others: refused as a home
  for (const fs::path& where : {dir_.path() / "missing", dir_.path() / "open"}) {
    ProcessResult result = runJobtape(where, {"__complete-selectors"});
    EXPECT_EQ(result.exitStatus, 0) << where;
    EXPECT_EQ(result.out, "") << where;
    EXPECT_EQ(result.err, "") << where;
  }
}

TEST_F(CompletionTest, UnknownShellIsAUsageError) {
  ProcessResult result = runJobtape(home(), {"completion", "tcsh"});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_EQ(result.err,
            "jobtape: error: no completion for shell 'tcsh'; the shells are bash, zsh, fish, e.g. "
            "'jobtape completion bash'\n");
  result = runJobtape(home(), {"completion"});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_EQ(result.err, "jobtape: error: 'jobtape completion' needs a shell: bash, zsh, fish; e.g. "
                        "'jobtape completion bash'\n");
}

// fish, where installed, completes through its own `complete -C`; the
// script calls `jobtape` by name, so the binary is put first on PATH.
TEST_F(CompletionTest, FishCompletesCommandsValuesAndSelectors) {
  fs::path fish = findProgram("fish");
  if (fish.empty()) GTEST_SKIP() << "fish is not installed";
  ProcessResult failed = runJobtape(home(), {"run", "--no-sandbox", "--quiet", "--", "/bin/false"});
  ASSERT_EQ(failed.exitStatus, 1) << failed.err;
  fs::path bin = dir_.path() / "bin";
  fs::create_directories(bin);
  fs::create_symlink(jobtapeBinary(), bin / "jobtape");
  fs::path file = dir_.path() / "jobtape.fish";
  std::ofstream(file) << script("fish");
  auto complete = [&](const std::string& line) {
    ProcessOptions options;
    options.env = {{"PATH", bin.string() + ":/usr/bin:/bin"}, {"JOBTAPE_HOME", home().string()}};
    ProcessResult result =
        runProgram({fish.string(), "--no-config", "-c", "source " + file.string() + "; complete -C '" + line + "'"},
                   options);
    EXPECT_EQ(result.exitStatus, 0) << result.err;
    EXPECT_EQ(result.err, "");
    std::vector<std::string> words;
    for (const std::string& entry : lines(result.out)) words.push_back(entry.substr(0, entry.find('\t')));
    return words;
  };
  EXPECT_THAT(complete("jobtape job sh"), ElementsAre("show"));
  EXPECT_THAT(complete("jobtape job logs --format "), UnorderedElementsAre("text", "json", "cast"));
  EXPECT_THAT(complete("jobtape job logs --fo"), UnorderedElementsAre("--follow", "--format"));
  EXPECT_THAT(complete("jobtape job show "), AllOf(Contains("failed"), Contains("last"), Contains("-1")));
  ProcessResult named = runJobtape(home(), {"run", "--no-sandbox", "--quiet", "--name", "build-1", "--", "/bin/true"});
  ASSERT_EQ(named.exitStatus, 0) << named.err;
  EXPECT_THAT(complete("jobtape job show name:bu"), ElementsAre("name:build-1"));
}

TEST_F(CompletionTest, TheBuildWritesTheScriptsTheBinaryPrints) {
  fs::path generated = buildTree() / "cli" / "completions";
  EXPECT_EQ(readFile(generated / "jobtape"), script("bash"));
  EXPECT_EQ(readFile(generated / "_jobtape"), script("zsh"));
  EXPECT_EQ(readFile(generated / "jobtape.fish"), script("fish"));
}

TEST_F(CompletionTest, ZshAndFishScriptsDescribeTheSameCommands) {
  std::string zsh = script("zsh");
  EXPECT_THAT(zsh, ::testing::StartsWith("#compdef jobtape\n"));
  EXPECT_THAT(zsh, AllOf(HasSubstr("'jobtape job logs --format' 1"), HasSubstr("'jobtape job show' 1"),
                         HasSubstr("debug-shell:"), HasSubstr("__complete-selectors")));
  // Selectors go to compadd, which takes name:NAME as it is (_describe would
  // read the colon as the start of a description).
  EXPECT_THAT(zsh, HasSubstr("compadd -J selectors -X 'job selector' -- $selectors"));
  std::string fish = script("fish");
  EXPECT_THAT(fish, AllOf(HasSubstr("-a 'debug-shell'"), HasSubstr("-l 'follow' -s 'f'"),
                          HasSubstr("-l 'format' -x -a 'text json cast'"), HasSubstr("(__jobtape_selectors)")));

  for (const auto& [shell, file] : {std::pair{"zsh", "_jobtape"}, std::pair{"fish", "jobtape.fish"}}) {
    fs::path program = findProgram(shell);
    if (program.empty()) continue;  // not installed here: the text checks above stand
    fs::path path = dir_.path() / file;
    std::ofstream(path) << script(shell);
    ProcessResult parsed = runProgram({program.string(), "-n", path.string()});
    EXPECT_EQ(parsed.exitStatus, 0) << shell << ": " << parsed.err;
    EXPECT_EQ(parsed.err, "") << shell;
  }
}

}  // namespace
}  // namespace jobtape::testing
