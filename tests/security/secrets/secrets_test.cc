// Secret values at rest, through the real binary: a job that writes its
// secret variable to stdout and stderr (whole, and split across two output
// chunks) and into an exec's argv leaves the value nowhere in the home, while
// `job logs` shows "***", `job show` names the masked variables, and retry
// and debug-shell hand the job the caller's current value again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kToken = "hunter2hunter2";

fs::path probe() {
  const char* root = std::getenv("JOBTAPE_BUILD_ROOT");
  return fs::path(root ? root : ".") / "tests/security/secrets/secret_probe";
}

struct Fixture {
  TempDir tmp;
  fs::path home = tmp.path() / "home";
  fs::path project = tmp.path() / "project";
  fs::path expected = project / "expected";  // the project is visible inside; /tmp is not

  Fixture() { fs::create_directory(project); }

  ProcessResult jobtape(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    ProcessOptions options;
    options.env = env;
    options.cwd = project;
    if (env.find("MY_TOKEN") == env.end()) options.unsetEnv.push_back("MY_TOKEN");
    return runJobtapeToEnd(home, args, options);
  }

  // `jobtape run` of the probe leaking VAR; extra words go on its command line.
  ProcessResult runProbe(const std::map<std::string, std::string>& env, const std::string& var = "MY_TOKEN",
                         std::vector<std::string> options = {}, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"run"};
    for (const std::string& bind : buildTreeBinds()) args.push_back(bind);
    args.insert(args.end(), options.begin(), options.end());
    for (const auto& word : std::vector<std::string>{"--", probe().string(), "leak", var, expected.string()}) {
      args.push_back(word);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return jobtape(args, env);
  }
};

// Every file of the home that holds `value`, events files decompressed.
// Also returns, through `sawEvents`, whether an events file was read at all
// and held the probe's masked output (so an empty home cannot pass).
std::vector<std::string> filesHolding(const fs::path& home, const std::string& value, bool& sawEvents) {
  std::vector<std::string> holding;
  sawEvents = false;
  for (const auto& entry : fs::recursive_directory_iterator(home)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = readFile(entry.path());
    if (bytes.find(value) != std::string::npos) holding.push_back(entry.path().string());
    if (entry.path().filename() == "events.bin.zst") {
      ProcessResult plain = runProgramToEnd({"/usr/bin/zstd", "-dc", entry.path().string()});
      EXPECT_EQ(plain.exitStatus, 0) << plain.err;
      if (plain.out.find(value) != std::string::npos) holding.push_back(entry.path().string() + " (decompressed)");
      if (plain.out.find("stdout whole: ***\n") != std::string::npos) sawEvents = true;
    }
  }
  return holding;
}

void expectNowhereInHome(const fs::path& home, const std::string& value) {
  bool sawEvents = false;
  EXPECT_THAT(filesHolding(home, value, sawEvents), ::testing::IsEmpty()) << "the value is at rest";
  EXPECT_TRUE(sawEvents) << "no events file with the masked output was found";
}

std::string jsonString(const std::string& json, const std::string& key) {
  std::smatch match;
  std::regex pattern("\"" + key + "\": *\"([^\"]*)\"");
  return std::regex_search(json, match, pattern) ? match[1].str() : std::string();
}

TEST(Secrets, AValueGivenToAJobIsNowhereInTheHome) {
  Fixture f;
  writeFile(f.expected, kToken);
  // The value on the command line too: the build's command line and the recipe's argv.
  ProcessResult run = f.runProbe({{"MY_TOKEN", kToken}}, "MY_TOKEN", {}, {kToken});
  ASSERT_EQ(run.exitStatus, 0) << run.err;
  // The live echo is masked the same way.
  EXPECT_THAT(run.out, HasSubstr("stdout whole: ***\nstdout split: ***\n"));
  EXPECT_THAT(run.err, HasSubstr("stderr whole: ***\nstderr split: ***\n"));
  EXPECT_THAT(run.out + run.err, Not(HasSubstr(kToken)));

  ProcessResult logs = f.jobtape({"job", "logs", "last"});
  ASSERT_EQ(logs.exitStatus, 0) << logs.err;
  EXPECT_THAT(logs.out, HasSubstr("stdout whole: ***\n"));
  EXPECT_THAT(logs.out, HasSubstr("stdout split: ***\n"));
  EXPECT_THAT(logs.out, HasSubstr("stderr split: ***\n"));
  EXPECT_THAT(logs.out, HasSubstr("probe: MY_TOKEN has the expected value"));
  for (const char* format : {"json", "cast"}) {
    ProcessResult derived = f.jobtape({"job", "logs", "--format", format, "last"});
    ASSERT_EQ(derived.exitStatus, 0) << derived.err;
    EXPECT_THAT(derived.out, HasSubstr("***")) << format;
    EXPECT_THAT(derived.out, Not(HasSubstr(kToken))) << format;
  }
  ProcessResult show = f.jobtape({"job", "show", "--processes", "last"});
  ASSERT_EQ(show.exitStatus, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("secret_probe argv '***'"));  // the exec'd child's argv
  EXPECT_THAT(show.out, Not(HasSubstr(kToken)));
  ProcessResult builds = f.jobtape({"build", "show", "last"});
  EXPECT_THAT(builds.out, HasSubstr("leak MY_TOKEN"));
  EXPECT_THAT(builds.out, Not(HasSubstr(kToken)));
  expectNowhereInHome(f.home, kToken);
}

TEST(Secrets, ShowNamesTheMaskedVariables) {
  Fixture f;
  const std::string plain = "plain-but-secret";
  writeFile(f.expected, plain);
  ProcessResult run = f.runProbe({{"MY_TOKEN", kToken}, {"PLAIN_VALUE", plain}, {"GIT_AUTHOR_NAME", "Jane Doe"}},
                                 "PLAIN_VALUE", {"--secret-env", "PLAIN_VALUE"});
  ASSERT_EQ(run.exitStatus, 0) << run.err;
  ProcessResult show = f.jobtape({"job", "show", "last", "--env"});
  ASSERT_EQ(show.exitStatus, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("MY_TOKEN=***\n"));
  EXPECT_THAT(show.out, HasSubstr("PLAIN_VALUE=***\n"));
  EXPECT_THAT(show.out, HasSubstr("GIT_AUTHOR_NAME=Jane Doe\n"));  // a name, not a credential
  std::smatch line;
  std::string text = show.out;
  ASSERT_TRUE(std::regex_search(text, line, std::regex("masked env ([^\n]*)"))) << show.out;
  EXPECT_THAT(line[1].str(), HasSubstr("MY_TOKEN"));
  EXPECT_THAT(line[1].str(), HasSubstr("PLAIN_VALUE"));
  EXPECT_THAT(line[1].str(), Not(HasSubstr("GIT_AUTHOR_NAME")));

  ProcessResult json = f.jobtape({"job", "show", "--json", "last"});
  ASSERT_EQ(json.exitStatus, 0) << json.err;
  std::smatch list;
  std::string jsonText = json.out;
  ASSERT_TRUE(std::regex_search(jsonText, list, std::regex("\"masked_env\": *\\[([^\\]]*)\\]"))) << json.out;
  EXPECT_THAT(list[1].str(), HasSubstr("\"MY_TOKEN\""));
  EXPECT_THAT(list[1].str(), HasSubstr("\"PLAIN_VALUE\""));
  EXPECT_THAT(list[1].str(), Not(HasSubstr("GIT_AUTHOR_NAME")));
  expectNowhereInHome(f.home, plain);
  expectNowhereInHome(f.home, kToken);
}

TEST(Secrets, ShortValuesAreRecordedMaskedButLeftInTheOutput) {
  Fixture f;
  writeFile(f.expected, "abc12");
  ProcessResult run = f.runProbe({{"MY_TOKEN", "abc12"}});
  ASSERT_EQ(run.exitStatus, 0) << run.err;
  EXPECT_THAT(f.jobtape({"job", "show", "last", "--env"}).out, HasSubstr("MY_TOKEN=***\n"));
  EXPECT_THAT(f.jobtape({"job", "logs", "last"}).out, HasSubstr("stdout whole: abc12\n"));
}

TEST(Secrets, RetryTakesTheValueFromTheCallersEnvironment) {
  Fixture f;
  writeFile(f.expected, kToken);
  ProcessResult run = f.runProbe({{"MY_TOKEN", kToken}});
  ASSERT_EQ(run.exitStatus, 0) << run.err;
  std::string first = f.jobtape({"job", "show", "--json", "last"}).out;
  std::string firstId = jsonString(first, "id");
  ASSERT_FALSE(firstId.empty()) << first;

  // Another value now: the job sees it (the probe compares), and the recipe
  // hash is the same, as it does not depend on the values.
  const std::string other = "another-token-value";
  writeFile(f.expected, other);
  ProcessResult again = f.jobtape({"job", "retry", firstId}, {{"MY_TOKEN", other}});
  EXPECT_EQ(again.exitStatus, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("probe: MY_TOKEN has the expected value"));
  EXPECT_THAT(again.err, Not(HasSubstr("warning")));
  std::string second = f.jobtape({"job", "show", "--json", "last"}).out;
  EXPECT_NE(jsonString(second, "id"), firstId);
  EXPECT_EQ(jsonString(second, "recipe_hash"), jsonString(first, "recipe_hash"));
  EXPECT_FALSE(jsonString(first, "recipe_hash").empty());

  // Without it: one warning naming it, and the job runs without it.
  ProcessResult without = f.jobtape({"job", "retry", firstId});
  EXPECT_EQ(without.exitStatus, 3) << without.out << without.err;
  EXPECT_THAT(without.out, HasSubstr("probe: MY_TOKEN is not set"));
  std::vector<std::string> warnings;
  for (const auto& line : splitLines(without.err)) {
    if (line.find("warning") != std::string::npos) warnings.push_back(line);
  }
  ASSERT_EQ(warnings.size(), 1u) << without.err;
  EXPECT_THAT(warnings[0], HasSubstr("jobtape: warning: MY_TOKEN "));
  expectNowhereInHome(f.home, kToken);
  expectNowhereInHome(f.home, other);
}

TEST(Secrets, DebugShellTakesTheValueFromTheCallersEnvironment) {
  Fixture f;
  writeFile(f.expected, "not the value");
  ProcessResult run = f.runProbe({{"MY_TOKEN", kToken}});
  ASSERT_EQ(run.exitStatus, 1) << run.err;  // failed: its state is kept for debug-shell
  writeFile(f.expected, kToken);
  std::vector<std::string> shell = {"job", "debug-shell", "last", "--", probe().string(), "leak", "MY_TOKEN",
                                    f.expected.string()};
  ProcessResult with = f.jobtape(shell, {{"MY_TOKEN", kToken}});
  EXPECT_EQ(with.exitStatus, 0) << with.out << with.err;
  EXPECT_THAT(with.out, HasSubstr("probe: MY_TOKEN has the expected value"));
  ProcessResult without = f.jobtape(shell);
  EXPECT_EQ(without.exitStatus, 3) << without.out << without.err;
  EXPECT_THAT(without.err, HasSubstr("jobtape: warning: MY_TOKEN "));
  expectNowhereInHome(f.home, kToken);
}

}  // namespace
}  // namespace jobtape::testing
