// `jobtape run -- COMMAND`: exit statuses, the failure hint, live output,
// record-only mode, nested builds and bad usage, through the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <regex>

#include "recorder/events/event_reader.h"
#include "recorder/job_command_line.h"
#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

class RunCommandTest : public ::testing::Test {
 protected:
  // Beside the project, not in it: a home the job could write is refused.
  fs::path home() const { return homeDir_.path() / "home"; }
  fs::path project() const { return dir_.path(); }
  ProcessResult run(const std::vector<std::string>& args, ProcessOptions options = {}) {
    if (!options.cwd) options.cwd = project();
    return runJobtapeToEnd(home(), args, options);
  }
  TempDir dir_, homeDir_;
};

struct EventsSummary {
  std::string stdoutText;
  std::string stderrText;
  std::optional<recorder::JobFinishedEvent> finished;
};

EventsSummary readEvents(const fs::path& eventsFile) {
  EventsSummary summary;
  auto reader = recorder::EventReader::open(eventsFile);
  while (auto event = reader->next()) {
    if (event->kind == recorder::Event::Kind::output) {
      (event->output.stream == sandbox::Stream::stdout_ ? summary.stdoutText : summary.stderrText) +=
          event->output.bytes;
    } else if (event->kind == recorder::Event::Kind::jobFinished) {
      summary.finished = event->finished;
    }
  }
  return summary;
}

TEST_F(RunCommandTest, ExitsWithTheJobsStatusAndEchoesItsOutput) {
  auto result = run({"run", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 7"});
  EXPECT_EQ(result.exitStatus, 7);
  EXPECT_EQ(result.out, "to-out\n");
  EXPECT_THAT(result.err, StartsWith("to-err\n"));

  auto killed = run({"run", "--", "sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(killed.exitStatus, 128 + 15);
  EXPECT_THAT(splitLines(killed.err).back(), HasSubstr("failed (killed by SIGTERM)"));

  auto fine = run({"run", "--", "true"});
  EXPECT_EQ(fine.exitStatus, 0);
  EXPECT_THAT(fine.err, IsEmpty());
}

TEST_F(RunCommandTest, AFailingMakeTargetIsRecordedAsFailedWithItsStateAndAHint) {
  writeFile(project() / "Makefile",
            "all: good broken\n"
            "good:\n\t@echo good target\n"
            "broken:\n\t@echo 'int main(void) { return undeclared_thing; }' > /tmp/broken.c\n"
            "\tcc -c /tmp/broken.c -o broken.o\n");
  auto result = run({"run", "--name", "demo-make", "--", "make", "all"});
  EXPECT_EQ(result.exitStatus, 2) << result.err;
  EXPECT_THAT(result.out, HasSubstr("good target"));
  EXPECT_THAT(result.err, HasSubstr("undeclared_thing"));

  auto row = onlyJob(home());
  EXPECT_EQ(row.status, store::JobStatus::failed);
  EXPECT_EQ(row.exitCode, 2);
  EXPECT_EQ(row.name, "demo-make");
  EXPECT_TRUE(row.stateKept);
  EXPECT_TRUE(fs::exists(fs::path(row.localPath) / "state" / "tmpfs" / "tmp" / "broken.c"))
      << "the private /tmp of the failed job was not kept";

  auto events = readEvents(fs::path(row.localPath) / "events.bin.zst");
  ASSERT_TRUE(events.finished);
  EXPECT_EQ(events.finished->resultName, "failed");
  EXPECT_EQ(events.finished->result.exitCode, 2);
  EXPECT_THAT(events.stderrText, HasSubstr("undeclared_thing"));

  std::string last = splitLines(result.err).back();
  std::smatch match;
  ASSERT_TRUE(std::regex_match(
      last, match, std::regex("jobtape: job ([0-9A-Z]{8,}) failed \\(exit 2\\); see: jobtape --home \\S+ job logs")))
      << last;
  EXPECT_THAT(row.id, StartsWith(match[1].str()));
}

TEST_F(RunCommandTest, OutputReachesThePipeWhileTheJobStillRuns) {
  // Each line is only followed by the next once the test has seen it: if
  // jobtape held output back, the job would never finish (and the test would
  // fail at its timeout instead of hanging).
  std::string script =
      "for i in 1 2 3; do echo line$i; echo err$i >&2; "
      "while [ ! -e go$i ]; do sleep 0.02; done; done; echo end";
  LiveJobtape jobtape(home(), {"run", "--", "sh", "-c", script}, project());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(jobtape.waitForStdoutLine("line" + std::to_string(i))) << "line" << i << " did not arrive";
    writeFile(project() / ("go" + std::to_string(i)), "");
  }
  auto status = jobtape.wait();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  std::vector<std::string> lines;
  for (const auto& line : jobtape.stdoutLines()) lines.push_back(line.text);
  EXPECT_EQ(lines, (std::vector<std::string>{"line1", "line2", "line3", "end"}));
  EXPECT_EQ(jobtape.stderrText(), "err1\nerr2\nerr3\n");
}

TEST_F(RunCommandTest, ALinePerTenthOfASecondArrivesBeforeTheJobEnds) {
  // The job cannot end before the test acknowledges the last line, so every
  // line seen by then was relayed while the job was running.
  LiveJobtape jobtape(home(),
                      {"run", "--", "sh", "-c",
                       "for i in 1 2 3 4 5 6; do echo tick$i; sleep 0.1; done; "
                       "while [ ! -e ack ]; do sleep 0.02; done"},
                      project());
  ASSERT_TRUE(jobtape.waitForStdoutLine("tick6"));
  auto seenWhileRunning = jobtape.stdoutLines();
  EXPECT_FALSE(jobtape.wait(std::chrono::milliseconds(0))) << "the job ended before its acknowledgement";
  writeFile(project() / "ack", "");
  auto status = jobtape.wait();
  auto exitedAt = std::chrono::steady_clock::now();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  ASSERT_EQ(seenWhileRunning.size(), 6u);
  for (size_t i = 0; i < seenWhileRunning.size(); ++i) {
    EXPECT_EQ(seenWhileRunning[i].text, "tick" + std::to_string(i + 1));
    EXPECT_LT(seenWhileRunning[i].at, exitedAt);
    if (i > 0) {
      EXPECT_LE(seenWhileRunning[i - 1].at, seenWhileRunning[i].at);
    }
  }
}

TEST_F(RunCommandTest, AClosedOutputPipeStopsTheJobLikeInAPipeline) {
  // Without jobtape, `yes | head -n 2` ends by SIGPIPE; with it, the same.
  std::string script = "'" + jobtapeBinary().string() + "' --home '" + home().string() +
                       "' run -- yes | head -n 2; echo \"status=${PIPESTATUS[0]}\"";
  auto result = runProgramToEnd({"/bin/bash", "-c", script}, {.cwd = project(), .timeout = std::chrono::seconds(60)});
  ASSERT_FALSE(result.timedOut) << "the job kept running after its reader left";
  EXPECT_EQ(result.out, "y\ny\nstatus=141\n");
  auto row = onlyJob(home());
  EXPECT_EQ(row.status, store::JobStatus::failed);
  EXPECT_EQ(row.signal, SIGPIPE);
}

TEST_F(RunCommandTest, QuietRecordsWithoutEchoing) {
  auto result = run({"run", "--quiet", "--", "sh", "-c", "echo hidden; echo hidden-err >&2"});
  EXPECT_EQ(result.exitStatus, 0);
  EXPECT_THAT(result.out, IsEmpty());
  EXPECT_THAT(result.err, IsEmpty());
  auto events = readEvents(fs::path(onlyJob(home()).localPath) / "events.bin.zst");
  EXPECT_EQ(events.stdoutText, "hidden\n");
  EXPECT_EQ(events.stderrText, "hidden-err\n");
}

TEST_F(RunCommandTest, SandboxOptionsShapeTheJobsWorld) {
  TempDir other;
  writeFile(other.path() / "data.txt", "from the host\n");
  // Mount points that exist on every Debian host: the host's / is read-only.
  auto result = run({"run", "--ro-bind", other.path().string() + ":/opt", "--tmpfs", "/mnt", "--env",
                     "GREETING=hi there", "--clean-env", "--",
                     "sh", "-c",
                     "cat /opt/data.txt; echo \"$GREETING\"; echo ${HOME:-no-home}; touch /mnt/ok && echo "
                     "scratch-ok; touch /opt/nope 2>/dev/null || echo ro-ok; hostname"});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_EQ(result.out, "from the host\nhi there\nno-home\nscratch-ok\nro-ok\njobtape\n");
}

TEST_F(RunCommandTest, NoSandboxRunsOnTheHostAndStillRecords) {
  fs::path marker = fs::temp_directory_path() / ("jobtape-no-sandbox-" + uniqueSleepSeconds());
  auto result = run({"run", "--no-sandbox", "--", "sh", "-c", "touch " + marker.string() + "; hostname; exit 3"});
  EXPECT_EQ(result.exitStatus, 3);
  EXPECT_TRUE(fs::exists(marker)) << "record-only mode did not run on the host";
  fs::remove(marker);
  auto row = onlyJob(home());
  EXPECT_EQ(row.status, store::JobStatus::failed);
  EXPECT_FALSE(row.stateKept) << "a record-only job has no sandbox state to keep";
}

TEST_F(RunCommandTest, ANestedRunIsAChildBuildAndItsFailureFailsTheParent) {
  std::string inner = jobtapeBinary().string() + " run -- false; echo inner-status=$?";
  auto result = run({"run", "--no-sandbox", "--", "sh", "-c", inner});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("inner-status=1"));

  auto store = openStoreAt(home());
  auto builds = store->builds(10);
  ASSERT_EQ(builds.size(), 2u);
  const auto& child = builds[0].parentJobId ? builds[0] : builds[1];
  const auto& parent = builds[0].parentJobId ? builds[1] : builds[0];
  ASSERT_TRUE(child.parentJobId);
  auto parentJobs = store->jobsOfBuild(parent.id);
  ASSERT_EQ(parentJobs.size(), 1u);
  EXPECT_EQ(*child.parentJobId, parentJobs.front().id);
  EXPECT_EQ(parentJobs.front().status, store::JobStatus::succeeded);
  EXPECT_EQ(child.result, "failed");
  EXPECT_EQ(parent.result, "failed") << "the child build's failure must count for its parent";
}

TEST_F(RunCommandTest, TheBuildRecordsTheCommandLineAsTypedWithSecretsMasked) {
  const std::string secret = "s3cret-value-8f2a91";
  auto result = run({"run", "--no-sandbox", "--env", "DEPLOY_TOKEN=" + secret, "--secret-env", "DEPLOY_TOKEN",
                     "--env=API_TOKEN=abc12", "--", "sh", "-c", "echo 'a b'"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto builds = openStoreAt(home())->builds(1);
  ASSERT_EQ(builds.size(), 1u);
  EXPECT_EQ(builds[0].commandLine, "jobtape --home " + recorder::shellQuote(home().string()) +
                                       " run --no-sandbox --env 'DEPLOY_TOKEN=***' --secret-env DEPLOY_TOKEN "
                                       "'--env=API_TOKEN=***' -- sh -c " +
                                       recorder::shellQuote("echo 'a b'"));
  EXPECT_THAT(builds[0].commandLine, Not(HasSubstr(secret)));
  EXPECT_THAT(builds[0].commandLine, Not(HasSubstr("abc12"))) << "a short secret is masked on the line too";
  EXPECT_THAT(runJobtape(home(), {"build", "show"}).out, HasSubstr("run --no-sandbox --env 'DEPLOY_TOKEN=***'"));
}

TEST_F(RunCommandTest, KeepKeepsTheStateOfASucceededJob) {
  auto kept = run({"run", "--keep", "--", "sh", "-c", "echo x > /tmp/kept"});
  EXPECT_EQ(kept.exitStatus, 0);
  auto row = onlyJob(home());
  EXPECT_TRUE(row.stateKept);
  EXPECT_EQ(readFile(fs::path(row.localPath) / "state" / "tmpfs" / "tmp" / "kept"), "x\n");
}

// One line on stderr, `jobtape: error: WHAT; HINT`, exit 2, nothing recorded.
void expectUsageError(const ProcessResult& result, const std::string& mentions, const fs::path& home) {
  EXPECT_EQ(result.exitStatus, 2) << result.err;
  auto lines = splitLines(result.err);
  ASSERT_EQ(lines.size(), 1u) << result.err;
  EXPECT_THAT(lines[0], StartsWith("jobtape: error: "));
  EXPECT_THAT(lines[0], HasSubstr("; "));
  EXPECT_THAT(lines[0], HasSubstr(mentions));
  EXPECT_THAT(result.out, IsEmpty());
  if (fs::exists(home / "jobtape.db")) {
    EXPECT_THAT(openStoreAt(home)->builds(10), IsEmpty());
  }
}

TEST_F(RunCommandTest, BadUsageIsOneClearLineAndExitTwo) {
  expectUsageError(run({"run"}), "nothing to run", home());
  expectUsageError(run({"run", "--"}), "nothing to run", home());
  expectUsageError(run({"run", "--bogus", "--", "true"}), "--bogus", home());
  expectUsageError(run({"run", "--timeout", "-1", "--", "true"}), "--timeout", home());
  expectUsageError(run({"run", "--timeout", "soon", "--", "true"}), "--timeout", home());
  expectUsageError(run({"run", "--bind", "/no/such/path", "--", "true"}), "/no/such/path", home());
  expectUsageError(run({"run", "--ro-bind", "/usr:relative", "--", "true"}), "absolute", home());
  expectUsageError(run({"run", "--memory", "12X", "--", "true"}), "--memory", home());
  expectUsageError(run({"run", "--env", "NOEQUALS", "--", "true"}), "--env", home());
  expectUsageError(run({"run", "--project", "/no/such/dir", "--", "true"}), "/no/such/dir", home());
  expectUsageError(run({"run", "-j", "0", "--recipe", "x.json"}), "-j", home());
}

// The options that fill recipe fields are refused in the user's words: the
// option as typed, never the recipe field it fills.
TEST_F(RunCommandTest, RefusedOptionValuesNameTheOptionNotTheRecipeField) {
  auto memory = run({"run", "--memory", "10", "--", "true"});
  expectUsageError(memory, "jobtape: error: --memory 10: must be 0 (no limit) or at least 1 MiB", home());
  auto timeout = run({"run", "--timeout", "99999999", "--", "true"});
  expectUsageError(timeout, "jobtape: error: --timeout 99999999: must be at most a year", home());
  auto name = run({"run", "--name", "two\nlines", "--", "true"});
  expectUsageError(name, "jobtape: error: --name two\\nlines: must be one line", home());
  auto bind = run({"run", "--ro-bind", "/usr:/a/../b", "--", "true"});
  expectUsageError(bind, "jobtape: error: --ro-bind /usr:/a/../b: must not contain", home());
  for (const auto* result : {&memory, &timeout, &name, &bind}) {
    EXPECT_THAT(result->err, Not(HasSubstr("recipe field"))) << result->err;
  }
}

TEST_F(RunCommandTest, MemorySizesTakeSuffixes) {
  auto result = run({"run", "--memory", "512M", "--timeout", "30", "--", "true"});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  auto row = onlyJob(home());
  EXPECT_THAT(row.recipeMeta, HasSubstr("536870912"));
  EXPECT_THAT(row.recipeMeta, HasSubstr("30000"));
}

}  // namespace
}  // namespace jobtape::testing
