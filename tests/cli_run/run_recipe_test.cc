// `jobtape run --recipe FILE... [-j N]`: recipe files as jobs of one build.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

class RunRecipeTest : public ::testing::Test {
 protected:
  fs::path home() const { return dir_.path() / "home"; }
  fs::path shared() const { return dir_.path() / "shared"; }
  void SetUp() override { fs::create_directory(shared()); }

  // A sandboxed shell job that sees the shared directory read-write.
  fs::path recipeFile(const std::string& name, const std::string& script) { return recipeFile(name, script, shared()); }
  fs::path recipeFile(const std::string& name, const std::string& script, const fs::path& workDir) {
    std::string json = fmt::format(R"({{
  "command": "/bin/sh",
  "args": ["-c", {}],
  "env": [{{"name": "PATH", "value": "/usr/bin:/bin"}}],
  "workDir": "{}",
  "mounts": [
    {{"kind": "roBind", "source": "/", "destination": "/"}},
    {{"kind": "tmpfs", "destination": "/tmp"}},
    {{"kind": "bind", "source": "{}", "destination": "{}"}}
  ],
  "limits": {{"timeoutMs": "120000"}},
  "name": "{}"
}})",
                                   quoted(script), workDir.string(), shared().string(), shared().string(), name);
    fs::path file = dir_.path() / (name + ".json");
    writeFile(file, json);
    return file;
  }

  ProcessResult run(const std::vector<std::string>& args) {
    ProcessOptions options;
    options.cwd = dir_.path();
    return runJobtapeToEnd(home(), args, options);
  }

  static std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }

  TempDir dir_;
};

TEST_F(RunRecipeTest, TwoRecipesRunAtOnceAsOneBuildWithPrefixedOutput) {
  // Each job waits for the other's mark: they can only both finish if -j 2
  // really runs them at the same time.
  auto alpha = recipeFile("alpha", "echo first; touch alpha.mark; while [ ! -e beta.mark ]; do sleep 0.02; done; "
                                   "printf 'partial'; echo oops >&2");
  auto beta = recipeFile("beta", "echo second; touch beta.mark; while [ ! -e alpha.mark ]; do sleep 0.02; done; "
                                 "exit 3");
  auto result = run({"run", "-j", "2", "--recipe", alpha.string(), beta.string()});
  EXPECT_EQ(result.exitStatus, 3) << result.err;

  std::multiset<std::string> outLines;
  for (const auto& line : splitLines(result.out)) outLines.insert(line);
  EXPECT_EQ(outLines, (std::multiset<std::string>{"[alpha] first", "[alpha] partial", "[beta] second"}));
  EXPECT_THAT(result.err, HasSubstr("[alpha] oops\n"));
  auto errLines = splitLines(result.err);
  EXPECT_THAT(errLines.back(), StartsWith("jobtape: job "));
  EXPECT_THAT(errLines.back(), HasSubstr("failed (exit 3); see: jobtape --home"));

  auto store = openStoreAt(home());
  auto builds = store->builds(10);
  ASSERT_EQ(builds.size(), 1u);
  EXPECT_EQ(builds[0].result, "failed");
  auto jobs = store->jobsOfBuild(builds[0].id);
  ASSERT_EQ(jobs.size(), 2u);
  std::map<std::string, store::JobStatus> byName;
  for (const auto& job : jobs) byName[job.name] = job.status;
  EXPECT_EQ(byName["alpha"], store::JobStatus::succeeded);
  EXPECT_EQ(byName["beta"], store::JobStatus::failed);
  // The hint names the failed job by a prefix that selects it.
  std::string prefix = errLines.back().substr(errLines.back().rfind(' ') + 1);
  for (const auto& job : jobs) {
    if (job.name == "beta") {
      EXPECT_THAT(job.id, StartsWith(prefix));
    }
  }
}

TEST_F(RunRecipeTest, AllSucceededExitsZeroAndOneAtATimeNeedsNoPrefix) {
  auto one = recipeFile("one", "echo one");
  auto two = recipeFile("two", "echo two");
  auto result = run({"run", "--recipe", one.string(), "--recipe", two.string()});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_EQ(result.out, "one\ntwo\n");
  EXPECT_THAT(result.err, IsEmpty());
  auto store = openStoreAt(home());
  ASSERT_EQ(store->builds(10).size(), 1u);
  EXPECT_EQ(store->builds(10)[0].result, "succeeded");
}

void expectRefused(const ProcessResult& result, const std::vector<std::string>& mentions) {
  EXPECT_EQ(result.exitStatus, 2) << result.err;
  auto lines = splitLines(result.err);
  ASSERT_EQ(lines.size(), 1u) << result.err;
  EXPECT_THAT(lines[0], StartsWith("jobtape: error: "));
  for (const auto& word : mentions) EXPECT_THAT(lines[0], HasSubstr(word));
}

// Each recipe's job belongs to the project enclosing its workDir (a
// repository's top level, else the directory), not to the caller's cwd; the
// build has one project per directory, and records the line as typed.
TEST_F(RunRecipeTest, RecipeJobsBelongToTheProjectsOfTheirWorkDirs) {
  fs::path repo = shared() / "repo";  // inside the bind: the recipes hide /tmp
  fs::path plain = shared() / "plain";
  fs::create_directories(repo / ".git");
  fs::create_directories(repo / "sub");
  fs::create_directories(plain);
  auto inRepo = recipeFile("in-repo", "true", repo / "sub");
  auto inPlain = recipeFile("in-plain", "true", plain);
  auto alsoRepo = recipeFile("also-repo", "true", repo);
  auto result = run({"run", "-j", "2", "--recipe", inRepo.string(), inPlain.string(), alsoRepo.string()});
  ASSERT_EQ(result.exitStatus, 0) << result.err;

  auto store = openStoreAt(home());
  auto builds = store->builds(1);
  ASSERT_EQ(builds.size(), 1u);
  EXPECT_EQ(builds[0].commandLine, fmt::format("jobtape --home {} run -j 2 --recipe {} {} {}", home().string(),
                                               inRepo.string(), inPlain.string(), alsoRepo.string()));
  std::set<std::string> projects;
  for (const auto& project : store->projects(builds[0].id)) projects.insert(project.localProjectPath);
  EXPECT_EQ(projects, (std::set<std::string>{repo.string(), plain.string()}));
  std::map<std::string, std::string> projectOfJob;
  for (const auto& job : store->jobsOfBuild(builds[0].id)) projectOfJob[job.name] = job.projectPath;
  EXPECT_EQ(projectOfJob, (std::map<std::string, std::string>{
                              {"in-repo", repo.string()}, {"in-plain", plain.string()}, {"also-repo", repo.string()}}));
}

TEST_F(RunRecipeTest, MalformedRecipeFilesAreRefusedClearlyBeforeAnythingRuns) {
  auto good = recipeFile("good", "touch ran.mark");
  auto write = [&](const std::string& name, const std::string& text) {
    fs::path file = dir_.path() / name;
    writeFile(file, text);
    return file.string();
  };
  expectRefused(run({"run", "--recipe", good.string(), write("trunc.json", "{\"command\": \"/bin/true\"")}),
                {"trunc.json"});
  expectRefused(run({"run", "--recipe", write("unknown.json", R"({"command": "/bin/true", "workDir": "/", "colour": 1})")}),
                {"unknown.json", "colour"});
  expectRefused(run({"run", "--recipe", write("type.json", R"({"command": "/bin/true", "workDir": "/", "args": 5})")}),
                {"type.json", "args"});
  expectRefused(run({"run", "--recipe", write("relative.json", R"({"command": "/bin/true", "workDir": "build"})")}),
                {"relative.json", "workDir"});
  expectRefused(
      run({"run", "--recipe", write("escape.json", R"({"command": "/bin/true", "workDir": "/",
        "mounts": [{"kind": "bind", "source": "/tmp/../etc", "destination": "/x"}]})")}),
      {"escape.json", "mounts[0]"});
  expectRefused(run({"run", "--recipe", (dir_.path() / "missing.json").string()}), {"missing.json"});
  expectRefused(run({"run", "--recipe", good.string(), "--network"}), {"--network", "--recipe"});
  expectRefused(run({"run", "--recipe", good.string(), "--", "true"}), {"not both"});
  EXPECT_FALSE(fs::exists(shared() / "ran.mark")) << "a job ran although a recipe was refused";
  if (fs::exists(home() / "jobtape.db")) {
    EXPECT_THAT(openStoreAt(home())->builds(10), IsEmpty());
  }
}

// A syntax error is said as a compiler says it, FILE:LINE:COLUMN, in one
// line without the JSON parser's own words.
TEST_F(RunRecipeTest, RecipeSyntaxErrorsSayTheFileLineAndColumn) {
  fs::path file = dir_.path() / "recipe.json";
  writeFile(file, "{\n  \"command\": \"/bin/true\",\n  \"workDir\": \"/\"\n  \"name\": \"x\"\n}\n");
  auto result = run({"run", "--recipe", file.string()});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_EQ(result.err, "jobtape: error: " + file.string() +
                            ":4:3: expected ',' or '}'; a recipe file is the JSON form of the Recipe struct in "
                            "recipe.capnp\n");

  writeFile(file, "{\"command\": \"/bin/true\", \"args\": [\"a\" \"b\"]}");
  result = run({"run", "--recipe", file.string()});
  EXPECT_THAT(result.err, StartsWith("jobtape: error: " + file.string() + ":1:39: expected ',' or ']'; "));
  writeFile(file, "{\"command\": \"/bin/true\"");
  result = run({"run", "--recipe", file.string()});
  EXPECT_THAT(result.err, StartsWith("jobtape: error: " + file.string() + ":1:24: unexpected end of file"));
  EXPECT_THAT(result.err, Not(HasSubstr("exhausted")));
}

// What the file says reaches the terminal escaped: a field name that is a
// terminal title sequence and a newline is one line of plain text.
TEST_F(RunRecipeTest, UnknownFieldNamesAreEscapedOnTheirOneLine) {
  fs::path file = dir_.path() / "hostile.json";
  writeFile(file, R"({"command": "/bin/true", "workDir": "/", "\u001b]0;owned\u0007\n": 1})");
  auto result = run({"run", "--recipe", file.string()});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(result.err.find('\x1b'), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find('\x07'), std::string::npos) << result.err;
  EXPECT_THAT(result.err, StartsWith("jobtape: error: " + file.string() + ": recipe field \"\\x1b]0;owned\\x07\\n\": "
                                     "unknown field"));
}

}  // namespace
}  // namespace jobtape::testing
