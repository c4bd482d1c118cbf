// `jobtape job list` and `jobtape job show` output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include <regex>
#include <sstream>

#include "recorder/inspect/json_testing.h"
#include "tests/cli_view/view_history.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

using ::jobtape::testing::runJobtape;
using ::jobtape::testing::runProgram;

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) result.push_back(line);
  return result;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> result;
  std::istringstream stream(line);
  for (std::string word; stream >> word;) result.push_back(word);
  return result;
}

// Runs `jobtape ARGS` on a pseudo-terminal (script(1)), so stdout is a tty.
ProcessResult onTerminal(const fs::path& home, const std::vector<std::string>& args,
                         std::map<std::string, std::string> env = {}) {
  std::string command = "'" + jobtapeBinary().string() + "' --home '" + home.string() + "'";
  for (const auto& arg : args) command += " '" + arg + "'";
  ProcessOptions options;
  options.env = std::move(env);
  if (!options.env.count("NO_COLOR")) options.unsetEnv.push_back("NO_COLOR");
  return ::jobtape::testing::runProgram({"script", "-qec", command, "/dev/null"}, options);
}

class ListTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    home_ = new TempHome();
    History history(home_->path());
    JobSpec spec;
    spec.command = "cc";
    spec.args = {"-c", "a.c"};
    spec.project = "/src/alpha";
    ok_ = history.add(spec);
    spec = {};
    spec.command = "make";
    spec.args = {"check"};
    spec.project = "/src/beta";
    spec.result = JobSpec::exited(2, 1500);
    failed_ = history.add(spec);
    spec = {};
    spec.command = "printf";
    spec.args = {"\x1b[31mred\ttab\n"};
    spec.project = "/src/alpha";
    escaped_ = history.add(spec);
  }
  static void TearDownTestSuite() {
    delete home_;
    home_ = nullptr;
  }
  static ProcessResult list(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"job", "list"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runJobtape(home_->path(), args);
  }

  static inline TempHome* home_ = nullptr;
  static inline RecordedJob ok_, failed_, escaped_;
};

TEST_F(ListTest, ColumnsMostRecentFirst) {
  ProcessResult result = list();
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto rows = lines(result.out);
  ASSERT_EQ(rows.size(), 4u) << result.out;
  EXPECT_THAT(words(rows[0]), ElementsAre("ID", "STATUS", "PROJECT", "COMMAND", "STARTED", "DURATION"));
  std::vector<std::string> ids;
  for (size_t i = 1; i < rows.size(); ++i) ids.push_back(words(rows[i]).front());
  ASSERT_EQ(ids.size(), 3u);
  // Shortest unique prefixes, at least into the random part of the ULID.
  EXPECT_THAT(escaped_.id, StartsWith(ids[0]));
  EXPECT_THAT(failed_.id, StartsWith(ids[1]));
  EXPECT_THAT(ok_.id, StartsWith(ids[2]));
  for (const auto& id : ids) EXPECT_GE(id.size(), 12u);
  EXPECT_THAT(rows[2], HasSubstr("failed"));
  EXPECT_THAT(rows[2], HasSubstr("/src/beta"));
  EXPECT_THAT(rows[2], HasSubstr("make check"));
  EXPECT_THAT(rows[2], HasSubstr("just now"));
  EXPECT_TRUE(std::regex_search(rows[2], std::regex(R"( ([0-9]+ms|[0-9]+\.[0-9]s)$)"))) << rows[2];
  EXPECT_THAT(rows[3], HasSubstr("succeeded"));
  // The status column starts at the same place on every row.
  size_t column = rows[0].find("STATUS");
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i].find_first_not_of(' ', ids[i - 1].size()), column);
}

TEST_F(ListTest, ControlCharactersInCommandsAreEscaped) {
  ProcessResult result = list();
  EXPECT_THAT(result.out, HasSubstr("\\x1b[31mred\\ttab\\n"));
  EXPECT_THAT(result.out, Not(HasSubstr("\x1b")));
  EXPECT_THAT(result.out, Not(HasSubstr("\t")));
}

TEST_F(ListTest, StatusProjectAndLimitFilter) {
  auto rows = lines(list({"--status", "failed"}).out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[1], HasSubstr("make check"));
  rows = lines(list({"--project", "/src/alpha"}).out);
  EXPECT_EQ(rows.size(), 3u);
  rows = lines(list({"--limit", "1"}).out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(escaped_.id, StartsWith(words(rows[1]).front()));
  ProcessResult none = list({"--status", "running"});
  EXPECT_EQ(none.exitStatus, 0);
  EXPECT_EQ(none.out, "no jobs match\n");
}

TEST_F(ListTest, BuildFilterTakesABuildSelector) {
  auto rows = lines(list({"--build", "last"}).out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(escaped_.id, StartsWith(words(rows[1]).front()));
  rows = lines(list({"--build", failed_.buildId}).out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[1], HasSubstr("make check"));
}

TEST_F(ListTest, BadStatusIsAUsageErrorListingTheValidOnes) {
  ProcessResult result = list({"--status", "broken"});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: unknown status 'broken'"));
  EXPECT_THAT(result.err, HasSubstr("running, succeeded, failed, abandoned"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);
}

TEST_F(ListTest, JsonHasFullIdsAndIsoTimes) {
  ProcessResult result = list({"--json"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  ParsedJson json(result.out);
  auto items = json.root().getArray();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(stringMember(items[0], "id"), escaped_.id);
  EXPECT_EQ(stringMember(items[1], "id"), failed_.id);
  EXPECT_EQ(stringMember(items[1], "status"), "failed");
  EXPECT_EQ(stringMember(items[1], "project"), "/src/beta");
  EXPECT_DOUBLE_EQ(numberMember(items[1], "exit_code"), 2);
  EXPECT_TRUE(std::regex_match(stringMember(items[1], "started_at"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(stringMember(items[1], "events_file"), failed_.eventsFile.string());
  // Checked as text: Cap'n Proto 0.9's parser misreads "\u001B".
  EXPECT_THAT(result.out, HasSubstr(R"("command": "printf '\u001B[31mred\ttab\n'")"));
}

TEST_F(ListTest, ColourOnlyOnATerminalAndNeverWithNoColor) {
  ProcessResult piped = list();
  EXPECT_THAT(piped.out, Not(HasSubstr("\x1b[")));
  ProcessResult tty = onTerminal(home_->path(), {"job", "list"});
  ASSERT_EQ(tty.exitStatus, 0) << tty.err;
  EXPECT_THAT(tty.out, HasSubstr("\x1b[31mfailed"));  // the check has teeth
  ProcessResult noColour = onTerminal(home_->path(), {"job", "list"}, {{"NO_COLOR", "1"}});
  ASSERT_EQ(noColour.exitStatus, 0) << noColour.err;
  EXPECT_THAT(noColour.out, HasSubstr("failed"));
  EXPECT_THAT(noColour.out, Not(HasSubstr("\x1b[")));
}

TEST(List, EmptyHomeIsNotAnError) {
  TempHome home;
  ProcessResult result = runJobtape(home.path(), {"job", "list"});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_EQ(result.out, "no jobs recorded yet\n");
  EXPECT_EQ(result.err, "");
  result = runJobtape(home.path(), {"job", "list", "--json"});
  EXPECT_EQ(result.out, "[]\n");
  ProcessResult missing = runJobtape(home.path() / "not" / "made", {"job", "list"});
  EXPECT_EQ(missing.exitStatus, 0);
  EXPECT_EQ(missing.out, "no jobs recorded yet\n");
}

TEST(Show, EverythingAboutAFailedJob) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.command = "make";
  spec.args = {"-C", "src dir", "all"};
  spec.name = "build all";
  spec.pid = 5150;
  constexpr uint64_t ms = 1'000'000;
  spec.steps = {sandbox::ExecRecord{0, 1, 0, "/usr/bin/make", {"make", "-C", "src dir", "all"}, "/src/app"},
                out(5, "making\n"),
                sandbox::ExecRecord{20 * ms, 7, 1, "/usr/bin/cc", {"cc", "-c", "broken.c"}, "/src/app/src dir"},
                err(300, "broken.c:1: error\n"),
                sandbox::ProcessExitRecord{320 * ms, 7, true, 1, 0},
                sandbox::ProcessExitRecord{330 * ms, 1, true, 2, 0}};
  spec.result = JobSpec::exited(2, 340);
  RecordedJob job = history.add(spec);

  ProcessResult result = runJobtape(home.path(), {"job", "show", "--processes", "--env"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  const std::string& text = result.out;
  EXPECT_THAT(text, HasSubstr("outcome    exited with status 2\nfailed     exit 1  cc -c broken.c\n"));
  EXPECT_THAT(text, HasSubstr("│ broken.c:1: error\n"));
  EXPECT_THAT(text, HasSubstr("job        " + job.id + "\n"));
  EXPECT_THAT(text, HasSubstr("status     failed\n"));
  EXPECT_THAT(text, HasSubstr("outcome    exited with status 2\n"));
  EXPECT_THAT(text, HasSubstr("build      " + job.buildId + " (failed)\n"));
  EXPECT_THAT(text, HasSubstr("project    /src/app\n"));
  EXPECT_THAT(text, HasSubstr("pid        5150\n"));
  EXPECT_THAT(text, HasSubstr("recipe     " + job.recipeHash + " (from the store)\n"));
  EXPECT_THAT(text, HasSubstr("command    make -C 'src dir' all\n"));
  EXPECT_THAT(text, HasSubstr("name       build all\n"));
  EXPECT_THAT(text, HasSubstr("limits     timeout 60.000 s\n"));
  EXPECT_THAT(text, HasSubstr("tmpfs /tmp"));
  EXPECT_THAT(text, HasSubstr("env        PATH=/usr/bin:/bin\n"));
  EXPECT_THAT(text, HasSubstr("max rss 3.0 MiB"));
  EXPECT_THAT(text, HasSubstr("output     7 B stdout, 18 B stderr\n"));
  EXPECT_THAT(text, HasSubstr("events     " + job.eventsFile.string() + "\n"));
  EXPECT_THAT(text, HasSubstr("state      " + (job.dir / "state").string()));
  EXPECT_THAT(text, HasSubstr("PID "));
  EXPECT_THAT(text, HasSubstr("0.000s    0.330s 2       make -C 'src dir' all\n"));
  EXPECT_THAT(text, HasSubstr("0.020s    0.300s 1       └─ cc -c broken.c\n"));
}

TEST(Show, JsonParsesWithRecipeAndProcesses) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.command = "sleep";
  spec.args = {"9"};
  spec.steps = {sandbox::ExecRecord{0, 1, 0, "/bin/sleep", {"sleep", "9"}, "/"}};
  spec.result = JobSpec::signaled(9, 50);
  RecordedJob job = history.add(spec);
  ProcessResult result = runJobtape(home.path(), {"job", "show", "--json", "--processes", job.id});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  ParsedJson json(result.out);
  EXPECT_EQ(stringMember(json.root(), "id"), job.id);
  EXPECT_EQ(stringMember(json.root(), "status"), "failed");
  EXPECT_EQ(stringMember(json.root(), "outcome"), "signaled");
  EXPECT_DOUBLE_EQ(numberMember(json.root(), "signal"), 9);
  EXPECT_EQ(stringMember(*member(json.root(), "recipe"), "command"), "sleep");
  EXPECT_EQ(member(json.root(), "processes")->getArray().size(), 1u);
  EXPECT_EQ(stringMember(json.root(), "events_file"), job.eventsFile.string());
}

TEST(Show, AJobWhoseEventsFileIsGoneStillShowsItsRow) {
  TempHome home;
  History history(home.path());
  JobSpec spec;
  spec.result = JobSpec::exited(4);
  RecordedJob job = history.add(spec);
  fs::remove(job.eventsFile);
  ProcessResult result = runJobtape(home.path(), {"job", "show"});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("outcome    exited with status 4\n"));
  EXPECT_THAT(result.out, HasSubstr("missing"));
  // logs cannot do without it, and says so in one line.
  result = runJobtape(home.path(), {"job", "logs"});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: the events file of job " + job.id + " is gone"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);
}

TEST(ListHome, AHomeThatIsNoStoreIsSaidSo) {
  TempHome home;
  std::filesystem::create_directories(home.path());
  ::chmod(home.path().c_str(), 0700);
  // An empty (or missing) home is a store with nothing recorded yet.
  EXPECT_EQ(runJobtape(home.path(), {"job", "list"}).out, "no jobs recorded yet\n");
  std::ofstream(home.path() / "notes.txt") << "not a store\n";
  ProcessResult result = runJobtape(home.path(), {"job", "list"});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr(home.path().string() + " is not a jobtape store"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);
}

}  // namespace
}  // namespace jobtape::testing
