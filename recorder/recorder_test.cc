// The public Recorder API, end to end: real sandboxes, real store, real
// events files.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <jobtape/recorder.h>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "recorder/events/event_reader.h"
#include "store/schema.h"
#include "store/store.h"

namespace jobtape {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "jobtape-recorder-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    ::chmod(path_.c_str(), 0777);  // the unprivileged test uses it too
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Recipe shell(const std::string& script, const fs::path& project) {
  return defaultRecipe("/bin/sh", {"-c", script}, project, project);
}

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(project());
    ::chmod(project().c_str(), 0777);
    recorder_ = Recorder::open({home()});
  }

  fs::path home() const { return scratch_.path() / "home"; }
  fs::path project() const { return scratch_.path() / "project"; }
  std::unique_ptr<store::Store> openStore() const { return store::Store::open(home()); }

  ScratchDir scratch_;
  std::unique_ptr<Recorder> recorder_;
};

std::string readEventsOutput(const fs::path& eventsFile, sandbox::Stream stream) {
  auto reader = recorder::EventReader::open(eventsFile);
  std::string text;
  while (auto event = reader->next()) {
    if (event->kind == recorder::Event::Kind::output && event->output.stream == stream) {
      text += event->output.bytes;
    }
  }
  return text;
}

TEST_F(RecorderTest, JobsOfOneBuildRunFromSeveralThreadsAtOnce) {
  auto build = recorder_->beginBuild({"test build", project()});
  int64_t projectId = build->addProject({project()});
  constexpr int kJobs = 4;
  std::vector<JobResult> results(kJobs);
  std::mutex outputMutex;
  std::map<std::string, std::string> outputByJob;
  std::vector<std::thread> threads;
  for (int i = 0; i < kJobs; ++i) {
    threads.emplace_back([&, i] {
      JobOptions options;
      options.onOutput = [&](const JobInfo& info, OutputStream stream, std::string_view bytes) {
        std::lock_guard lock(outputMutex);
        outputByJob[info.jobId] += (stream == OutputStream::stdout_ ? "O:" : "E:") + std::string(bytes);
      };
      std::string script = "echo out" + std::to_string(i) + "; echo err" + std::to_string(i) +
                           " >&2; sleep 0.3; exit " + std::to_string(i % 2);
      results[i] = build->run(shell(script, project()), projectId, options);
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::string> ids;
  auto store = openStore();
  for (int i = 0; i < kJobs; ++i) {
    const JobResult& result = results[i];
    ids.insert(result.jobId);
    EXPECT_EQ(result.buildId, build->id());
    EXPECT_EQ(result.succeeded, i % 2 == 0) << result.message;
    EXPECT_EQ(result.exitCode, i % 2);
    EXPECT_EQ(result.outcome, Outcome::exited);
    EXPECT_THAT(outputByJob[result.jobId], HasSubstr("O:out" + std::to_string(i) + "\n"));
    EXPECT_THAT(outputByJob[result.jobId], HasSubstr("E:err" + std::to_string(i) + "\n"));
    EXPECT_EQ(readEventsOutput(result.eventsFile, sandbox::Stream::stdout_), "out" + std::to_string(i) + "\n");
    auto row = store->job(result.jobId);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->status, i % 2 == 0 ? store::JobStatus::succeeded : store::JobStatus::failed);
    EXPECT_EQ(row->exitCode, i % 2);
    EXPECT_EQ(row->localPath, result.eventsFile.parent_path().string());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(store->jobsOfBuild(build->id()).size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(build->finish(), "failed");
  EXPECT_EQ(store->build(build->id())->result, "failed");
}

TEST_F(RecorderTest, OutputArrivesThroughTheCallbackInOrderAndWhileTheJobRuns) {
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});
  std::string stdoutText;
  std::string stderrText;
  std::vector<std::string> rowStatusAtFirstLine;
  JobOptions options;
  options.onOutput = [&](const JobInfo& info, OutputStream stream, std::string_view bytes) {
    (stream == OutputStream::stdout_ ? stdoutText : stderrText) += bytes;
    if (rowStatusAtFirstLine.empty()) {
      rowStatusAtFirstLine.push_back(store::jobStatusName(openStore()->job(info.jobId)->status));
    }
  };
  JobResult result = build->run(
      shell("for i in 1 2 3 4 5; do echo line$i; sleep 0.05; done; echo done >&2", project()), projectId, options);
  ASSERT_TRUE(result.succeeded) << result.message;
  EXPECT_EQ(stdoutText, "line1\nline2\nline3\nline4\nline5\n");
  EXPECT_EQ(stderrText, "done\n");
  EXPECT_THAT(rowStatusAtFirstLine, ElementsAre("running"));
  EXPECT_EQ(build->finish(), "succeeded");
}

// The job sees the value; the callback, the events file and the row see
// "***", also for a value written in two pieces; the hash ignores the value.
TEST_F(RecorderTest, SecretsReachTheJobButNotTheRecord) {
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});
  auto runWith = [&](const std::string& value, std::string& live) {
    Recipe recipe = shell("printf hunter; sleep 0.2; printf '2hunter2\\n'; [ ${#MY_TOKEN} -eq 14 ]", project());
    recipe.env.push_back({"MY_TOKEN", value});
    JobOptions options;
    options.onOutput = [&](const JobInfo&, OutputStream, std::string_view bytes) { live += bytes; };
    return build->run(recipe, projectId, options);
  };
  std::string live;
  JobResult result = runWith("hunter2hunter2", live);
  ASSERT_TRUE(result.succeeded) << result.message;
  EXPECT_EQ(live, "***\n");
  EXPECT_EQ(readEventsOutput(result.eventsFile, sandbox::Stream::stdout_), "***\n");
  auto reader = recorder::EventReader::open(result.eventsFile);
  const auto& env = reader->description().recipe.env;
  ASSERT_FALSE(env.empty());
  EXPECT_EQ(env.back().name, "MY_TOKEN");
  EXPECT_EQ(env.back().value, "***");
  auto row = openStore()->job(result.jobId);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->recipeMeta.find("hunter2hunter2"), std::string::npos);

  std::string otherLive;
  JobResult other = runWith("other-token-14", otherLive);
  ASSERT_TRUE(other.succeeded) << other.message;
  EXPECT_EQ(otherLive, "hunter2hunter2\n");  // not this job's secret
  EXPECT_EQ(other.recipeHash, result.recipeHash);
  build->finish();
}

TEST_F(RecorderTest, ErrorsAreTypedAndNameTheirCause) {
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});

  Recipe noCommand = shell("true", project());
  noCommand.command.clear();
  try {
    build->run(noCommand, projectId);
    FAIL() << "an empty command was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), Error::Kind::recipe);
    EXPECT_EQ(error.field(), "command");
    EXPECT_TRUE(error.cause());
  }
  EXPECT_TRUE(openStore()->jobsOfBuild(build->id()).empty()) << "a refused recipe left a job row";

  try {
    build->run(shell("true", project()), projectId + 1000);
    FAIL() << "an unknown project id was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), Error::Kind::invalidArgument);
  }
  EXPECT_THROW(build->addProject({project(), "registry/name"}), Error);
  EXPECT_THROW(build->addProject({}), Error);

  fs::path notADirectory = scratch_.path() / "file";
  std::ofstream(notADirectory) << "x";
  try {
    Recorder::open({notADirectory / "home"});
    FAIL() << "a home below a regular file was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), Error::Kind::store);
    EXPECT_THAT(error.what(), HasSubstr(notADirectory.string()));
  }

  build->finish();
  EXPECT_THROW(build->run(shell("true", project()), projectId), Error);
  EXPECT_THROW(build->finish(), Error);
}

// A recipe cannot switch the sandbox off unless the caller allows it, and a
// job is never given the store: both refused before anything runs.
TEST_F(RecorderTest, UnsafeRecipesAreRefusedWithATypedError) {
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});
  fs::path marker = project() / "ran";
  auto refusal = [&](const Recipe& recipe, const JobOptions& options = {}) -> std::optional<Error> {
    try {
      build->run(recipe, projectId, options);
    } catch (const Error& error) {
      return error;
    }
    return std::nullopt;
  };
  Recipe unsandboxed = shell("touch " + marker.string(), project());
  unsandboxed.sandboxed = false;
  auto error = refusal(unsandboxed);
  ASSERT_TRUE(error) << "a recipe switched the sandbox off on its own";
  EXPECT_EQ(error->kind(), Error::Kind::recipe);
  EXPECT_EQ(error->field(), "sandboxed");

  Recipe writesHome = shell("touch " + marker.string(), project());
  writesHome.mounts.push_back({Mount::Kind::bind, scratch_.path().string(), "/mnt/scratch"});
  error = refusal(writesHome);
  ASSERT_TRUE(error) << "a job was given the home read-write";
  EXPECT_EQ(error->kind(), Error::Kind::recipe);
  EXPECT_EQ(error->field(), "mounts[" + std::to_string(writesHome.mounts.size() - 1) + "]");
  EXPECT_THAT(error->what(), HasSubstr(home().string()));

  Recipe partOfHome = shell("touch " + marker.string(), project());
  partOfHome.mounts.push_back({Mount::Kind::roBind, (home() / "jobs").string(), "/tmp/jobs"});
  error = refusal(partOfHome);
  ASSERT_TRUE(error) << "a job was given a part of the home";
  EXPECT_EQ(error->field(), "mounts[" + std::to_string(partOfHome.mounts.size() - 1) + "]");
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_TRUE(openStore()->jobsOfBuild(build->id()).empty()) << "a refused recipe left a job row";

  JobOptions allow;
  allow.allowUnsandboxed = true;
  EXPECT_TRUE(build->run(unsandboxed, projectId, allow).succeeded);
  EXPECT_TRUE(fs::exists(marker));
}

// While other jobs of the build are running (their events files, pipes and
// eventfds open in this process) and this process holds an fd without
// O_CLOEXEC, a job sees only 0, 1 and 2 (and ls's own directory fd).
TEST_F(RecorderTest, NoFileDescriptorReachesTheJob) {
  int leaky = ::open("/dev/null", O_RDONLY);  // deliberately inheritable
  ASSERT_GE(leaky, 0);
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});
  CancelToken stopSleeper;
  std::atomic<bool> sleeperStarted{false};
  std::thread sleeper([&] {
    JobOptions options;
    options.cancel = &stopSleeper;
    options.onStarted = [&](const JobInfo&, int) { sleeperStarted = true; };
    build->run(shell("sleep 100", project()), projectId, options);
  });
  while (!sleeperStarted) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  for (bool sandboxed : {true, false}) {
    std::string listing;
    JobOptions options;
    options.onOutput = [&](const JobInfo&, OutputStream, std::string_view bytes) { listing += bytes; };
    Recipe recipe = defaultRecipe("/bin/ls", {"-l", "/proc/self/fd/"}, project(), project());
    recipe.sandboxed = sandboxed;
    options.allowUnsandboxed = !sandboxed;
    JobResult result = build->run(recipe, projectId, options);
    ASSERT_TRUE(result.succeeded) << result.message << listing;
    std::set<std::string> fds;
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
      auto arrow = line.find(" -> ");
      if (arrow == std::string::npos) continue;
      std::string target = line.substr(arrow + 4);
      if (target.find("/fd") != std::string::npos && target.rfind("/proc/", 0) == 0) continue;  // ls's own
      auto nameStart = line.rfind(' ', arrow - 1) + 1;
      fds.insert(line.substr(nameStart, arrow - nameStart));
    }
    EXPECT_THAT(fds, UnorderedElementsAre("0", "1", "2")) << (sandboxed ? "sandboxed" : "record-only") << ":\n"
                                                           << listing;
  }
  stopSleeper.request(SIGTERM);
  sleeper.join();
  ::close(leaky);
}

TEST_F(RecorderTest, OneCancelTokenStopsEveryJobItIsGivenToWithTheirWholeTrees) {
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});
  CancelToken token;
  std::atomic<int> started{0};
  std::vector<JobResult> results(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      JobOptions options;
      options.cancel = &token;
      options.onStarted = [&](const JobInfo&, int pid) {
        EXPECT_GT(pid, 0);
        ++started;
      };
      results[i] = build->run(shell("sleep 100 & sleep 100; wait", project()), projectId, options);
    });
  }
  while (started < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  token.request(SIGTERM);
  for (auto& thread : threads) thread.join();
  auto store = openStore();
  for (const auto& result : results) {
    EXPECT_FALSE(result.succeeded);
    EXPECT_EQ(result.outcome, Outcome::cancelled) << result.message;
    EXPECT_EQ(result.signal, SIGTERM);
    EXPECT_EQ(result.exitCode, 128 + SIGTERM);
    auto row = store->job(result.jobId);
    EXPECT_EQ(row->status, store::JobStatus::failed);
    EXPECT_EQ(row->signal, SIGTERM);
  }
  // A job given an already-requested token does not run its command.
  JobOptions late;
  late.cancel = &token;
  fs::path marker = project() / "ran";
  JobResult lateResult = build->run(shell("sleep 1; touch " + marker.string(), project()), projectId, late);
  EXPECT_EQ(lateResult.outcome, Outcome::cancelled);
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(RecorderTest, TheDefaultSandboxKeepsTheStateOfFailedJobsOnly) {
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});
  std::string script = "echo scratch > /tmp/left-behind; echo built > out.txt; ! touch /usr/jobtape-probe; exit $CODE";

  Recipe failing = shell(script, project());
  failing.env.push_back({"CODE", "3"});
  JobResult failed = build->run(failing, projectId);
  EXPECT_EQ(failed.exitCode, 3) << failed.message;
  EXPECT_TRUE(failed.stateKept);
  EXPECT_TRUE(openStore()->job(failed.jobId)->stateKept);
  EXPECT_FALSE(fs::exists("/tmp/left-behind")) << "/tmp is not private";
  EXPECT_FALSE(fs::exists("/usr/jobtape-probe")) << "the host's / is writable";
  EXPECT_TRUE(fs::exists(failed.stateDir / "tmpfs" / "tmp" / "left-behind"));
  EXPECT_TRUE(fs::exists(project() / "out.txt")) << "the project directory is not writable";

  Recipe succeeding = shell(script, project());
  succeeding.env.push_back({"CODE", "0"});
  JobResult succeeded = build->run(succeeding, projectId);
  ASSERT_TRUE(succeeded.succeeded) << succeeded.message;
  EXPECT_FALSE(succeeded.stateKept);
  EXPECT_FALSE(fs::exists(succeeded.stateDir));
  EXPECT_TRUE(fs::exists(succeeded.eventsFile));

  JobOptions keep;
  keep.keepState = true;
  JobResult kept = build->run(succeeding, projectId, keep);
  EXPECT_TRUE(kept.stateKept);
  EXPECT_TRUE(fs::exists(kept.stateDir / "tmpfs" / "tmp" / "left-behind"));
}

// A succeeded job's /tmp and /run that it left as they were made are the
// next job's (store/spare_state.h); whatever a job changed in them is not.
TEST_F(RecorderTest, OnlyAnUntouchedStateTreeIsGivenToTheNextJob) {
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});
  auto job = [&](const std::string& script) {
    Recipe recipe;
    recipe.command = "/bin/sh";
    recipe.args = {"-c", script};
    recipe.mounts = {{Mount::Kind::roBind, "/", "/"}, {Mount::Kind::tmpfs, "", "/tmp"}, {Mount::Kind::tmpfs, "", "/run"}};
    recipe.workDir = "/";
    return build->run(recipe, projectId);
  };
  auto spares = [&] {
    fs::path dir = home() / "spare-state";
    return fs::exists(dir) ? std::distance(fs::directory_iterator(dir), fs::directory_iterator()) : 0;
  };
  const std::string fresh = "test -z \"$(ls -A /tmp)$(ls -A /run)\" && test \"$(stat -c %a /tmp)\" = 755";
  JobResult first = job(fresh);
  ASSERT_TRUE(first.succeeded) << first.message;
  EXPECT_FALSE(fs::exists(first.stateDir));
  EXPECT_EQ(spares(), 1);

  for (const char* change : {"echo x > /tmp/x", "mkdir /run/d", "chmod 700 /tmp", "chmod +t /tmp"}) {
    JobResult changed = job(fresh + " && " + change);
    ASSERT_TRUE(changed.succeeded) << change << ": " << changed.message;
    EXPECT_FALSE(fs::exists(changed.stateDir)) << change;
    EXPECT_EQ(spares(), 0) << change << ": its tree was given back";
    JobResult next = job(fresh);
    EXPECT_TRUE(next.succeeded) << "after " << change << ", the next job did not get a fresh /tmp and /run";
    EXPECT_EQ(spares(), 1);
  }

  JobResult failed = job("exit 3");
  EXPECT_EQ(failed.exitCode, 3);
  EXPECT_TRUE(failed.stateKept);
  EXPECT_TRUE(fs::is_directory(failed.stateDir / "tmpfs" / "tmp"));
  EXPECT_EQ(spares(), 0) << "a failed job keeps the tree it took";
}

TEST_F(RecorderTest, AJobSeesItsIdAndABuildStartedInsideItIsItsChild) {
  auto build = recorder_->beginBuild({"outer", project()});
  int64_t projectId = build->addProject({project()});
  std::string seen;
  JobOptions options;
  options.onOutput = [&](const JobInfo&, OutputStream, std::string_view bytes) { seen += bytes; };
  JobResult outer = build->run(shell("echo $JOBTAPE_JOB_ID $JOBTAPE_HOME", project()), projectId, options);
  EXPECT_EQ(seen, outer.jobId + " " + home().string() + "\n");

  ::setenv("JOBTAPE_JOB_ID", outer.jobId.c_str(), 1);
  ::setenv("JOBTAPE_HOME", home().c_str(), 1);
  auto child = recorder_->beginBuild({"inner", project()});
  auto unrelated = recorder_->beginBuild({"inner", project(), {}, {}, /*parentFromEnvironment=*/false});
  ::setenv("JOBTAPE_HOME", (scratch_.path() / "elsewhere").c_str(), 1);
  auto otherHome = recorder_->beginBuild({"inner", project()});
  ::unsetenv("JOBTAPE_JOB_ID");
  ::unsetenv("JOBTAPE_HOME");

  auto store = openStore();
  EXPECT_EQ(store->build(child->id())->parentJobId, outer.jobId);
  EXPECT_FALSE(store->build(unrelated->id())->parentJobId);
  EXPECT_FALSE(store->build(otherHome->id())->parentJobId);

  int64_t childProject = child->addProject({project()});
  child->run(shell("exit 1", project()), childProject);
  EXPECT_EQ(child->finish(), "failed");
  EXPECT_EQ(build->finish(), "failed") << "a failed nested build must fail its parent";
}

TEST_F(RecorderTest, NoSandboxProcessOutlivesTheRecorder) {
  auto build = recorder_->beginBuild({"test build", project()});
  int64_t projectId = build->addProject({project()});
  for (int i = 0; i < 3; ++i) {
    JobResult result = build->run(defaultRecipe("/bin/sh", {"-c", "sleep 1000 & exit 0"}, project(), project()), projectId);
    ASSERT_TRUE(result.succeeded) << result.message;
  }
  build->finish();
  build.reset();
  recorder_.reset();
  siginfo_t info{};
  EXPECT_EQ(::waitid(P_ALL, 0, &info, WEXITED | WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(RecorderTest, ABuildDroppedWithoutFinishIsFinished) {
  std::string id;
  {
    auto build = recorder_->beginBuild({"dropped", project()});
    id = build->id();
    build->run(shell("exit 4", project()), build->addProject({project()}));
  }
  EXPECT_EQ(openStore()->build(id)->result, "failed");
}

TEST_F(RecorderTest, HeartbeatsAreRefreshedWhileAJobRuns) {
  auto build = recorder_->beginBuild({"test", project()});
  int64_t projectId = build->addProject({project()});
  JobResult result = build->run(shell("sleep 5", project()), projectId);
  ASSERT_TRUE(result.succeeded) << result.message;
  auto row = openStore()->job(result.jobId);
  EXPECT_GE(row->heartbeatAtMs, row->startedAtMs + 1000);
}

// Frames left in the store's WAL, as a new connection finds them.
int64_t walFramesOf(const fs::path& home) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2((home / "jobtape.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* ask = nullptr;
  int64_t frames = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(PASSIVE)", -1, &ask, nullptr) == SQLITE_OK &&
      sqlite3_step(ask) == SQLITE_ROW) {
    frames = sqlite3_column_int64(ask, 1);
  }
  sqlite3_finalize(ask);
  sqlite3_close(db);
  return frames;
}

// The store's checkpoints are made beside the jobs (LockedStore::
// checkpointInBackground): the WAL stays near the due size, far below what
// the jobs wrote and below the size at which a commit would make one itself.
TEST_F(RecorderTest, TheWalIsCheckpointedWhileJobsRun) {
  auto build = recorder_->beginBuild({"checkpoints", project()});
  int64_t projectId = build->addProject({project()});
  // Each job lasts long enough for a checkpoint started beside it to end.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(build->run(shell("sleep 0.02", project()), projectId).succeeded);
  build->finish();
  build.reset();
  recorder_.reset();  // waits for a checkpoint still running
  EXPECT_LT(walFramesOf(home()), store::kWalFramesDue + 100);
}

// The same API from an unprivileged user: fork, drop to nobody, run a job.
TEST_F(RecorderTest, WorksForAnUnprivilegedUser) {
  if (geteuid() != 0) GTEST_SKIP() << "already unprivileged: every other test covers it";
  struct passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  fs::path nobodyHome = scratch_.path() / "nobody-home";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) _exit(90);
    // setuid() made us non-dumpable (our /proc files stay root's); a process
    // started as nobody (exec) is dumpable, which user namespaces need.
    ::prctl(PR_SET_DUMPABLE, 1);
    try {
      auto recorder = Recorder::open({nobodyHome});
      auto build = recorder->beginBuild({"as nobody", project()});
      int64_t projectId = build->addProject({project()});
      std::string out;
      JobOptions options;
      options.onOutput = [&](const JobInfo&, OutputStream, std::string_view bytes) { out += bytes; };
      JobResult ok = build->run(shell("id -u; touch made-by-job", project()), projectId, options);
      JobResult bad = build->run(shell("exit 5", project()), projectId);
      bool fine = ok.succeeded && out == std::to_string(nobody->pw_uid) + "\n" && bad.exitCode == 5 &&
                  bad.stateKept && build->finish() == "failed";
      if (!fine) {
        std::fprintf(stderr, "as nobody: %s (%s), output \"%s\"; %d (%s)\n", outcomeName(ok.outcome),
                     ok.message.c_str(), out.c_str(), bad.exitCode, bad.message.c_str());
      }
      _exit(fine ? 0 : 91);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "as nobody: %s\n", error.what());
      _exit(92);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "90: cannot drop privileges, 91: wrong results, 92: an Error";
  struct stat info {};
  ASSERT_EQ(::stat((project() / "made-by-job").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, nobody->pw_uid);
}

TEST(CancelTokenTest, TheFirstRequestWinsAndTheFdStaysReadable) {
  CancelToken token;
  EXPECT_FALSE(token.requested());
  token.request(SIGINT);
  token.request(SIGTERM);
  EXPECT_EQ(token.signal(), SIGINT);
  EXPECT_GE(token.fd(), 0);
  EXPECT_TRUE(::fcntl(token.fd(), F_GETFD) & FD_CLOEXEC);
}

}  // namespace
}  // namespace jobtape
