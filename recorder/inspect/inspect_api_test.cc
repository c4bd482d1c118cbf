// The public inspection API as an embedding build tool uses it: jobs
// recorded through Recorder, then found, read, rendered, retried and
// re-entered through the public headers only.
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <jobtape/actions.h>
#include <jobtape/events.h>
#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <jobtape/views.h>
#include <sstream>
#include <thread>

#include "recorder/inspect/json_testing.h"

namespace jobtape {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "jobtape-inspect-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class InspectApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(project());
    recorder_ = Recorder::open({home()});
  }

  fs::path home() const { return scratch_.path() / "home"; }
  fs::path project() const { return scratch_.path() / "project"; }

  // One build of one job; `sandboxed` false records it on the host (quick).
  JobResult record(const std::string& script, bool sandboxed = false, JobOptions options = {}) {
    auto build = recorder_->beginBuild({"test " + script, project()});
    int64_t projectId = build->addProject({project()});
    Recipe recipe = defaultRecipe("/bin/sh", {"-c", script}, project(), project());
    recipe.sandboxed = sandboxed;
    options.allowUnsandboxed = !sandboxed;
    JobResult result = build->run(recipe, projectId, options);
    build->finish();
    return result;
  }

  std::unique_ptr<Home> openHome() { return Home::open({home()}); }

  ScratchDir scratch_;
  std::unique_ptr<Recorder> recorder_;
};

std::string outputOf(JobEvents& events, OutputStream stream) {
  std::string text;
  while (auto event = events.next()) {
    if (auto* chunk = std::get_if<OutputChunk>(&*event); chunk && chunk->stream == stream) text += chunk->bytes;
  }
  return text;
}

TEST_F(InspectApiTest, SelectorsAndListingsFindJobsAsTheCommandDoes) {
  JobResult ok = record("true");
  JobResult firstFailure = record("exit 1");
  JobResult lastFailure = record("exit 2");
  auto home = openHome();
  ASSERT_TRUE(home->hasStore());

  std::vector<std::string> ids;
  for (const auto& job : home->jobs({}).jobs) ids.push_back(job.id);
  EXPECT_THAT(ids, ElementsAre(lastFailure.jobId, firstFailure.jobId, ok.jobId));
  EXPECT_EQ(home->jobs({.status = JobStatus::failed}).jobs.size(), 2u);
  EXPECT_EQ(home->jobs({.limit = 1}).jobs.size(), 1u);
  EXPECT_EQ(home->jobs({.project = project().string()}).jobs.size(), 3u);
  EXPECT_TRUE(home->jobs({.project = "no-such-project"}).jobs.empty());
  EXPECT_EQ(home->jobs({.build = "last"}).jobs.at(0).id, lastFailure.jobId);

  EXPECT_EQ(home->selectJob(std::nullopt).record->id, lastFailure.jobId);
  EXPECT_EQ(home->selectJob("-2").record->id, firstFailure.jobId);
  EXPECT_EQ(home->selectJob("last").record->id, lastFailure.jobId);
  SelectedJob byShortId = home->selectJob(home->shortId(ok.jobId));
  EXPECT_EQ(byShortId.record->id, ok.jobId);
  EXPECT_EQ(byShortId.record->status, JobStatus::succeeded);
  EXPECT_EQ(byShortId.eventsFile, ok.eventsFile);
  EXPECT_EQ(home->files(*byShortId.record).eventsFile, ok.eventsFile);

  // A path selects the file without the store's row; recordOf finds the row again.
  SelectedJob byPath = home->selectJob(ok.eventsFile.string());
  EXPECT_FALSE(byPath.record);
  EXPECT_EQ(home->recordOf(byPath)->id, ok.jobId);
}

TEST_F(InspectApiTest, SelectorErrorsSayWhatWasSearchedAndListCandidates) {
  JobResult a = record("exit 1");
  JobResult b = record("exit 1");
  auto home = openHome();
  try {
    home->selectJob("job:0");
    FAIL() << "an ambiguous prefix was taken";
  } catch (const SelectorError& error) {
    EXPECT_EQ(std::string(error.what()), "job id prefix 0 is ambiguous");
    ASSERT_EQ(error.candidates().size(), 3u);  // a heading and one line each
    EXPECT_THAT(error.candidates()[1] + error.candidates()[2], HasSubstr(a.jobId));
    EXPECT_THAT(error.candidates()[1] + error.candidates()[2], HasSubstr(b.jobId));
    EXPECT_EQ(error.kind(), Error::Kind::invalidArgument);
  }
  try {
    home->selectJob("job:ZZZZ");
    FAIL() << "a prefix no job has was taken";
  } catch (const SelectorError& error) {
    EXPECT_THAT(error.what(), HasSubstr("ZZZZ"));
    EXPECT_TRUE(error.candidates().empty());
  }
}

TEST_F(InspectApiTest, AHomeWithoutAStoreIsEmptyUnlessItHoldsOtherFiles) {
  fs::path fresh = scratch_.path() / "fresh";
  auto empty = Home::open({fresh});
  EXPECT_FALSE(empty->hasStore());
  EXPECT_TRUE(empty->jobs({}).jobs.empty());
  EXPECT_TRUE(empty->builds(0).empty());
  EXPECT_THROW(empty->selectJob(std::nullopt), SelectorError);

  fs::path foreign = scratch_.path() / "foreign";
  fs::create_directories(foreign);
  std::ofstream(foreign / "notes.txt") << "not a store\n";
  EXPECT_FALSE(Home::open({foreign})->hasStore());
  try {
    Home::open({foreign, true});
    FAIL() << "a directory of other files was read as a home";
  } catch (const HomeError& error) {
    EXPECT_EQ(error.reason(), HomeError::Reason::notAStore);
    EXPECT_THAT(error.what(), HasSubstr("is not a jobtape store"));
  }
}

TEST_F(InspectApiTest, AHomeOthersCanWriteIsRefusedWithItsFix) {
  record("true");
  ASSERT_EQ(::chmod(home().c_str(), 0777), 0);
  try {
    Home::open({home()});
    FAIL() << "a world-writable home was opened";
  } catch (const HomeError& error) {
    EXPECT_EQ(error.reason(), HomeError::Reason::unsafe);
    EXPECT_THAT(error.hint(), HasSubstr("chmod"));
  }
  ::chmod(home().c_str(), 0700);
}

TEST_F(InspectApiTest, EventsAreTypedValues) {
  JobResult result = record("echo out; echo err >&2; exit 3");
  auto home = openHome();
  auto events = home->events(home->selectJob(result.jobId));
  EXPECT_EQ(events->description().jobId, result.jobId);
  EXPECT_EQ(events->description().recipe.command, "/bin/sh");
  std::string out, err;
  std::optional<JobFinish> finish;
  while (auto event = events->next()) {
    if (auto* chunk = std::get_if<OutputChunk>(&*event)) {
      (chunk->stream == OutputStream::stdout_ ? out : err) += chunk->bytes;
    } else if (auto* finished = std::get_if<JobFinish>(&*event)) {
      finish = *finished;
    }
  }
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");
  ASSERT_TRUE(finish);
  EXPECT_EQ(finish->outcome, Outcome::exited);
  EXPECT_EQ(finish->exitCode, 3);
  EXPECT_EQ(finish->result, "failed");
  EXPECT_FALSE(events->damage());

  // The file alone reads the same, without a store.
  auto alone = JobEvents::open(result.eventsFile);
  EXPECT_EQ(outputOf(*alone, OutputStream::stdout_), "out\n");
  std::ofstream(scratch_.path() / "junk") << "not zstd";
  try {
    JobEvents::open(scratch_.path() / "junk");
    FAIL() << "junk was read as an events file";
  } catch (const EventsFileError& error) {
    EXPECT_FALSE(error.gone());
  }
}

TEST_F(InspectApiTest, LogsRenderToAStreamAndFollowARunningJob) {
  JobResult result = record("printf 'one\\ntwo\\nthree\\n'; exit 1");
  auto home = openHome();
  SelectedJob job = home->selectJob(result.jobId);
  std::ostringstream all, tail, json;
  writeLogs(*home->events(job), {}, all);
  EXPECT_EQ(all.str(), "one\ntwo\nthree\n");
  writeLogs(*home->events(job), {.tailLines = 1}, tail);
  EXPECT_EQ(tail.str(), "three\n");
  writeLogs(*home->events(job), {.format = LogFormat::json}, json);
  std::istringstream lines(json.str());
  int objects = 0;
  for (std::string line; std::getline(lines, line); ++objects) EXPECT_TRUE(testing::parsesAsJson(line)) << line;
  EXPECT_GE(objects, 3);
  EXPECT_THROW(writeLogs(*home->events(job), {.format = LogFormat::cast, .timestamps = true}, json), Error);

  // Following: the job waits for a file that appears once the follower runs.
  fs::path go = project() / "go";
  std::atomic<bool> started{false};
  std::string runningId;
  JobOptions options;
  options.onStarted = [&](const JobInfo& info, int) {
    runningId = info.jobId;
    started = true;
  };
  std::thread job2([&] {
    record("echo first; while [ ! -e " + go.string() + " ]; do sleep 0.05; done; echo second", false, options);
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto followHome = openHome();
  auto events = followHome->events(followHome->selectJob(runningId));
  std::ostringstream followed;
  std::thread follower([&] { writeLogs(*events, {.follow = true}, followed); });
  std::ofstream(go) << "";
  job2.join();
  follower.join();
  EXPECT_EQ(followed.str(), "first\nsecond\n");
}

TEST_F(InspectApiTest, TheReportAndTheJsonListingsAreTheCommandsOwn) {
  JobResult result = record("echo hi; exit 4");
  auto home = openHome();
  SelectedJob job = home->selectJob(result.jobId);
  std::ostringstream text, json;
  writeJobReport(*home, job, {}, text);
  EXPECT_THAT(text.str(), HasSubstr(result.jobId));
  EXPECT_THAT(text.str(), HasSubstr("failed"));
  writeJobReport(*home, job, {.json = true}, json);
  testing::ParsedJson report(json.str());
  EXPECT_EQ(testing::stringMember(report.root(), "id"), result.jobId);

  testing::ParsedJson list(jobListJson(*home, home->jobs({}).jobs));
  ASSERT_EQ(list.root().getArray().size(), 1u);
  EXPECT_EQ(testing::stringMember(list.root().getArray()[0], "events_file"), result.eventsFile.string());

  auto builds = home->builds(0);
  ASSERT_EQ(builds.size(), 1u);
  EXPECT_EQ(builds[0].build.id, result.buildId);
  EXPECT_EQ(buildResultName(builds[0].build), "failed");
  EXPECT_EQ(builds[0].jobs.failed, 1);
  EXPECT_THAT(result.buildId, StartsWith(builds[0].build.shortId));
  EXPECT_TRUE(testing::parsesAsJson(buildListJson(builds)));
  EXPECT_TRUE(testing::parsesAsJson(buildShowJson(*home, home->buildTree(home->selectBuild("last")))));

  FailureCheck check = home->checkFailures(1, std::nullopt);
  EXPECT_TRUE(check.locked);
  EXPECT_TRUE(testing::parsesAsJson(buildCheckJson(check)));
  BuildTrace trace = home->trace(builds[0].build, result.duration.count() / 1'000'000 + builds[0].build.startedAtMs);
  EXPECT_EQ(trace.jobs, 1u);
  EXPECT_TRUE(testing::parsesAsJson(trace.json));
  auto days = home->history(std::nullopt);
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].failedJobs, 1);
}

TEST_F(InspectApiTest, RetryRunsTheRecordedRecipeAsANewBuildOfItsProject) {
  JobResult failed = record("echo again; exit 5");
  auto home = openHome();
  RetryPlan plan = planRetry(*home, *home->selectJob(failed.jobId).record);
  EXPECT_EQ(plan.build.retryOf, failed.buildId);
  EXPECT_EQ(plan.project.localPath, project());
  EXPECT_FALSE(plan.recipe.sandboxed);
  // Recorded without a sandbox: runs so only when the caller says so again.
  try {
    retryJob(plan);
    FAIL() << "an unsandboxed recipe ran on the store's word";
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "sandboxed");
  }
  std::string output;
  JobOptions options;
  options.allowUnsandboxed = true;
  options.onOutput = [&](const JobInfo&, OutputStream, std::string_view bytes) { output += bytes; };
  JobResult again = retryJob(plan, options);
  EXPECT_NE(again.jobId, failed.jobId);
  EXPECT_EQ(again.exitCode, 5);
  EXPECT_EQ(output, "again\n");
  EXPECT_EQ(home->selectBuild("last").retryOf, failed.buildId);
}

TEST_F(InspectApiTest, DebugShellReentersAFailedJobsSandboxWithItsKeptState) {
  JobResult failed = record("echo left > /tmp/note; exit 1", true);
  ASSERT_FALSE(failed.succeeded) << failed.message;
  auto home = openHome();
  JobRecord job = *home->selectJob(failed.jobId).record;
  auto shell = DebugShell::plan(*home, job, {.command = {"/bin/sh", "-c", "test \"$(cat /tmp/note)\" = left"}});
  EXPECT_THAT(shell->banner("X"), HasSubstr("job X"));
  DebugShellResult result = shell->run();
  EXPECT_EQ(result.outcome, Outcome::exited) << result.message;
  EXPECT_EQ(result.exitCode, 0);
  auto failing = DebugShell::plan(*home, job, {.command = {"/bin/sh", "-c", "exit 7"}});
  EXPECT_EQ(failing->run().exitCode, 7);

  JobResult ok = record("true", true);
  try {
    DebugShell::plan(*home, *home->selectJob(ok.jobId).record, {});
    FAIL() << "a succeeded job without kept state was re-entered";
  } catch (const ActionRefused& refused) {
    EXPECT_THAT(refused.what(), HasSubstr("succeeded"));
    EXPECT_FALSE(refused.hint().empty());
  }
}

TEST_F(InspectApiTest, GcSaysWhatItWouldRemoveAndRemovesIt) {
  JobResult first = record("exit 1");
  JobResult second = record("exit 1");
  auto home = openHome();
  GcReport dry = collectGarbage(*home, {.keepFailed = 1, .dryRun = true});
  ASSERT_EQ(dry.jobs.size(), 1u);
  EXPECT_EQ(dry.jobs[0].id, first.jobId);
  EXPECT_TRUE(fs::exists(first.eventsFile));
  EXPECT_TRUE(testing::parsesAsJson(gcReportJson(dry)));
  GcReport done = collectGarbage(*home, {.keepFailed = 1});
  EXPECT_EQ(done.jobs.size(), 1u);
  EXPECT_FALSE(fs::exists(first.eventsFile));
  EXPECT_TRUE(fs::exists(second.eventsFile));
  EXPECT_FALSE(home->job(first.jobId));
}

}  // namespace
}  // namespace jobtape
