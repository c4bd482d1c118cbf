#include "recorder/inspect/job_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/inspect/json_testing.h"

namespace jobtape::recorder {
namespace {

using jobtape::testing::member;
using jobtape::testing::numberMember;
using jobtape::testing::ParsedJson;
using jobtape::testing::stringMember;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kMs = 1'000'000;

ReportStyle plainStyle() {
  ReportStyle style;
  style.escape = [](std::string_view text) {
    std::string out;
    for (char c : text) out += c == '\x1b' ? std::string("\\x1b") : std::string(1, c);
    return out;
  };
  style.timestamp = [](int64_t ms) { return "T" + std::to_string(ms); };
  style.duration = [](int64_t ms) { return std::to_string(ms) + "ms"; };
  style.status = [](std::string_view status) { return "<" + std::string(status) + ">"; };
  return style;
}

sandbox::Recipe recipe() {
  sandbox::Recipe r;
  r.command = "make";
  r.args = {"-C", "src dir", "all"};
  r.env = {{"PATH", "/usr/bin"}, {"EVIL", "\x1b]0;pwned\x07"}};
  r.workDir = "/src";
  r.mounts = {{sandbox::Mount::Kind::roBind, "/", ""}, {sandbox::Mount::Kind::tmpfs, "", "/tmp"}};
  r.limits.timeoutMs = 5000;
  r.limits.memoryBytes = 512ull << 20;
  return r;
}

JobSummary summary(std::optional<sandbox::RunResult> result) {
  JobSummary s;
  s.description.jobId = "01JD4ZK3M8X9V0W1Y2Z3A4B5C6";
  s.description.buildId = "01JD4ZK3M0000000000000000B";
  s.description.recipe = recipe();
  s.description.recipeHash = "ab12cd";
  s.description.host = "builder";
  s.description.kernel = "6.18.0";
  s.description.startedAtUnixNs = 1'700'000'000'000'000'000;
  s.stdoutBytes = 2048;
  s.stderrBytes = 10;
  if (result) {
    JobFinishedEvent finished;
    finished.result = *result;
    finished.resultName = result->succeeded() ? "succeeded" : "failed";
    s.finished = finished;
  }
  ProcessTreeBuilder tree;
  Event spawn;
  spawn.kind = Event::Kind::exec;
  spawn.exec.spawned = true;
  spawn.exec.record = {0, 1, 0, "/usr/bin/make", {"make", "-C", "src dir", "all"}, "/src"};
  tree.add(spawn);
  Event child = spawn;
  child.exec.spawned = false;
  child.exec.record = {10 * kMs, 2, 1, "/usr/bin/cc", {"cc", "-c", "a.c"}, "/src"};
  tree.add(child);
  Event exit;
  exit.kind = Event::Kind::processExit;
  exit.processExit.record = {310 * kMs, 2, true, 1, 0};
  tree.add(exit);
  s.processes = tree.tree();
  return s;
}

sandbox::RunResult result(sandbox::Outcome outcome, int exitCode, int signal = 0) {
  sandbox::RunResult r;
  r.outcome = outcome;
  r.exitCode = exitCode;
  r.signal = signal;
  r.wallNs = 1500 * kMs;
  r.rusage.userCpu = std::chrono::nanoseconds(250 * kMs);
  r.rusage.maxRssBytes = 3 << 20;
  return r;
}

ReportView withProcesses() {
  ReportView view;
  view.processes = true;
  return view;
}

JobReport fileReport(std::optional<sandbox::RunResult> finished) {
  JobReport report;
  report.events = summary(finished);
  report.recipe = report.events->description.recipe;
  report.recipeSource = "events file";
  report.eventsFile = "/home/u/.local/state/jobtape/jobs/01JD/events.bin.zst";
  return report;
}

TEST(OutcomeText, EveryOutcomeSaysWhatHappened) {
  using sandbox::Outcome;
  EXPECT_EQ(outcomeText(fileReport(result(Outcome::exited, 2))), "exited with status 2");
  EXPECT_EQ(outcomeText(fileReport(result(Outcome::signaled, 137, 9))), "killed by signal 9 (SIGKILL)");
  EXPECT_THAT(outcomeText(fileReport(result(Outcome::timedOut, 124))), HasSubstr("timed out after 5.000 s"));
  auto setup = result(Outcome::setupFailed, 1);
  setup.setupStep = "pivot_root";
  setup.setupErrno = EPERM;
  EXPECT_EQ(outcomeText(fileReport(setup)), "sandbox setup failed at pivot_root: EPERM (Operation not permitted)");
  EXPECT_EQ(outcomeText(fileReport(result(Outcome::commandNotFound, 127))), "command not found (exit 127)");
  EXPECT_EQ(outcomeText(fileReport(result(Outcome::notExecutable, 126))), "command not executable (exit 126)");
  auto seccomp = result(Outcome::seccompViolation, 159, 31);
  seccomp.violatingSyscall = "ptrace";
  EXPECT_EQ(outcomeText(fileReport(seccomp)), "killed by the seccomp filter for calling ptrace");
  EXPECT_EQ(outcomeText(fileReport(result(Outcome::cancelled, 130, 2))), "cancelled with signal 2 (SIGINT)");
  EXPECT_THAT(outcomeText(fileReport(std::nullopt)), HasSubstr("no finish recorded"));
}

TEST(OutcomeText, FromTheRowAloneWhenTheEventsFileIsGone) {
  JobReport report;
  report.row = store::JobRow{};
  report.row->status = store::JobStatus::failed;
  report.row->outcome = "signaled";
  report.row->exitCode = 143;
  report.row->signal = 15;
  EXPECT_EQ(outcomeText(report), "killed by signal 15 (SIGTERM)");
  report.row->status = store::JobStatus::running;
  report.row->pid = 4242;
  EXPECT_EQ(outcomeText(report), "running (pid 4242)");
  report.row->status = store::JobStatus::abandoned;
  report.row->outcome.clear();
  EXPECT_THAT(outcomeText(report), HasSubstr("abandoned"));
}

TEST(ReportText, ShowsRecipeOutcomeTimesAndFilesWithRecordedTextEscaped) {
  JobReport report = fileReport(result(sandbox::Outcome::exited, 2));
  report.keptState = "/home/u/.local/state/jobtape/jobs/01JD/state";
  std::string text = renderReportText(report, plainStyle());
  EXPECT_THAT(text, HasSubstr("job        01JD4ZK3M8X9V0W1Y2Z3A4B5C6\n"));
  EXPECT_THAT(text, HasSubstr("status     <failed>\n"));
  EXPECT_THAT(text, HasSubstr("outcome    exited with status 2\n"));
  EXPECT_THAT(text, HasSubstr("command    make -C 'src dir' all\n"));
  EXPECT_THAT(text, HasSubstr("work dir   /src\n"));
  EXPECT_THAT(text, HasSubstr("limits     timeout 5.000 s, memory 512.0 MiB\n"));
  EXPECT_THAT(text, HasSubstr("mounts     ro-bind / -> /\n           tmpfs /tmp\n"));
  EXPECT_THAT(text, HasSubstr("env        2 variables (--env shows them)\n"));
  EXPECT_THAT(text, Not(HasSubstr("PATH=/usr/bin")));
  ReportView withEnv;
  withEnv.env = true;
  text = renderReportText(report, plainStyle(), withEnv);
  EXPECT_THAT(text, HasSubstr("env        PATH=/usr/bin\n           EVIL=\\x1b]0;pwned"));
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_THAT(text, HasSubstr("started    T1700000000000\n"));
  EXPECT_THAT(text, HasSubstr("finished   T1700000001500 (took 1500ms)\n"));
  EXPECT_THAT(text, HasSubstr("recipe     ab12cd (from the events file)\n"));
  EXPECT_THAT(text, HasSubstr("user 0.250s, system 0.000s; max rss 3.0 MiB"));
  EXPECT_THAT(text, HasSubstr("output     2.0 KiB stdout, 10 B stderr\n"));
  EXPECT_THAT(text, HasSubstr("events     /home/u/.local/state/jobtape/jobs/01JD/events.bin.zst\n"));
  EXPECT_THAT(text, HasSubstr("state      /home/u/.local/state/jobtape/jobs/01JD/state"));
  EXPECT_THAT(text, Not(HasSubstr("PID")));
}

TEST(ReportText, ProcessesAsATree) {
  std::string text = renderReportText(fileReport(result(sandbox::Outcome::exited, 1)), plainStyle(), withProcesses());
  EXPECT_THAT(text, HasSubstr("PID         START  DURATION EXIT    COMMAND\n"));
  EXPECT_THAT(text, HasSubstr("1          0.000s         - -       make -C 'src dir' all\n"));
  EXPECT_THAT(text, HasSubstr("2          0.010s    0.300s 1       └─ cc -c a.c\n"));
}

TEST(ReportText, FailingExitsAreDecoratedAndLongCommandsShortened) {
  JobReport report = fileReport(result(sandbox::Outcome::exited, 1));
  ReportStyle style = plainStyle();
  style.failure = [](std::string_view text) { return "[" + std::string(text) + "]"; };
  ReportView view = withProcesses();
  view.width = 50;
  report.events->processes.nodes[1].images[0].argv = {"/usr/bin/cc", "-DLONG_DEFINE=1", "-I/a/very/long/include/dir",
                                                      "-c", "a.c"};
  std::string text = renderReportText(report, style, view);
  EXPECT_THAT(text, HasSubstr("0.300s [1      ] └─ cc … -c a.c\n"));
  view.wide = true;
  text = renderReportText(report, style, view);
  EXPECT_THAT(text, HasSubstr("└─ /usr/bin/cc -DLONG_DEFINE=1 -I/a/very/long/include/dir -c a.c\n"));
}

TEST(ReportText, OnlyTheFailingChains) {
  JobReport report = fileReport(result(sandbox::Outcome::exited, 2));
  ProcessTreeBuilder tree;
  auto exec = [&](int32_t pid, int32_t ppid, std::vector<std::string> argv) {
    Event event;
    event.kind = Event::Kind::exec;
    event.exec.spawned = pid == 1;
    event.exec.record = {static_cast<uint64_t>(pid) * kMs, pid, ppid, "/usr/bin/" + argv[0], argv, "/src"};
    tree.add(event);
  };
  auto exit = [&](int32_t pid, int code) {
    Event event;
    event.kind = Event::Kind::processExit;
    event.processExit.record = {100 * kMs, pid, true, code, 0};
    tree.add(event);
  };
  exec(1, 0, {"make"});
  exec(2, 1, {"cc", "-c", "good.c"});
  exec(3, 1, {"cc", "-c", "bad.c"});
  exec(4, 3, {"cc1", "bad.c"});
  exit(2, 0);
  exit(4, 1);
  exit(3, 1);
  exit(1, 2);
  report.events->processes = tree.tree();
  ReportView view;
  view.failedOnly = true;
  std::string text = renderReportText(report, plainStyle(), view);
  EXPECT_THAT(text, HasSubstr("make\n"));
  EXPECT_THAT(text, HasSubstr("└─ cc -c bad.c\n"));
  EXPECT_THAT(text, HasSubstr("   └─ cc1 bad.c\n"));
  EXPECT_THAT(text, Not(HasSubstr("good.c")));
}

TEST(ReportText, StartsWithWhatFailed) {
  JobReport report = fileReport(result(sandbox::Outcome::exited, 2));
  WhatFailed failed;
  FailedProcess process;
  process.process.pid = 7;
  process.process.argv = {"cc", "-c", "bad.c"};
  process.process.cwd = "/src/lib";
  process.process.statusKnown = true;
  process.process.exitCode = 1;
  process.commandLine = "cc -c bad.c";
  process.chain = {process.process};
  process.chain.insert(process.chain.begin(), process.process);
  process.chain[0].argv = {"make"};
  process.chain[0].pid = 1;
  process.chain[0].exitCode = 2;
  process.during.lines = {{OutputStream::stderr_, std::chrono::nanoseconds(5), "bad.c:1: error: \x1b[31mno", true}};
  process.attributed = true;
  failed.processes.push_back(process);
  report.failed = failed;
  std::string text = renderReportText(report, plainStyle());
  auto failedAt = text.find("failed     exit 1  cc -c bad.c\n");
  ASSERT_NE(failedAt, std::string::npos) << text;
  EXPECT_LT(text.find("outcome"), failedAt);
  EXPECT_LT(failedAt, text.find("command    make"));
  EXPECT_THAT(text, HasSubstr("             pid 7, in /src/lib, started at 0.000s\n"));
  EXPECT_THAT(text, HasSubstr("             ran by  make (pid 1, exit 2)\n"));
  EXPECT_THAT(text, HasSubstr("             │ bad.c:1: error: \\x1b[31mno\n"));
  ParsedJson json(renderReportJson(report));
  auto processes = member(json.root(), "failed_processes")->getArray();
  ASSERT_EQ(processes.size(), 1u);
  EXPECT_EQ(stringMember(processes[0], "command_line"), "cc -c bad.c");
  EXPECT_DOUBLE_EQ(numberMember(*member(processes[0], "process"), "exit_code"), 1);
}

TEST(ReportText, SaysWhyTheEventsAreMissing) {
  JobReport report;
  report.row = store::JobRow{};
  report.row->id = "01JD4ZK3M8X9V0W1Y2Z3A4B5C6";
  report.row->status = store::JobStatus::failed;
  report.eventsFile = "/gone/events.bin.zst";
  report.eventsError = "missing (removed by 'jobtape gc'?)";
  std::string text = renderReportText(report, plainStyle(), withProcesses());
  EXPECT_THAT(text, HasSubstr("events     /gone/events.bin.zst\n           missing"));
  EXPECT_THAT(text, HasSubstr("no processes recorded"));
}

TEST(ReportJson, ParsesAndCarriesTheDetails) {
  auto seccomp = result(sandbox::Outcome::seccompViolation, 159, 31);
  seccomp.violatingSyscall = "ptrace";
  JobReport report = fileReport(seccomp);
  report.events->damage = Damage{4096, "the file ends inside a zstd frame"};
  ParsedJson json(renderReportJson(report, withProcesses()));
  auto root = json.root();
  EXPECT_EQ(stringMember(root, "id"), "01JD4ZK3M8X9V0W1Y2Z3A4B5C6");
  EXPECT_EQ(stringMember(root, "status"), "failed");
  EXPECT_EQ(stringMember(root, "outcome"), "seccomp-violation");
  EXPECT_EQ(stringMember(root, "violating_syscall"), "ptrace");
  EXPECT_DOUBLE_EQ(numberMember(root, "signal"), 31);
  EXPECT_EQ(stringMember(root, "started_at"), "2023-11-14T22:13:20.000Z");
  EXPECT_DOUBLE_EQ(numberMember(root, "duration_ms"), 1500);
  auto recipeJson = *member(root, "recipe");
  EXPECT_EQ(stringMember(recipeJson, "command"), "make");
  EXPECT_DOUBLE_EQ(numberMember(*member(root, "events_damage"), "offset"), 4096);
  auto processes = member(root, "processes")->getArray();
  ASSERT_EQ(processes.size(), 2u);
  EXPECT_DOUBLE_EQ(numberMember(processes[1], "depth"), 1);
  EXPECT_DOUBLE_EQ(numberMember(processes[1], "duration_ns"), 300e6);
}

TEST(ReportText, SaysWhatTracingMissedWithTheReasonEscaped) {
  JobReport report = fileReport(result(sandbox::Outcome::exited, 0));
  EXPECT_THAT(renderReportText(report, plainStyle()), Not(HasSubstr("tracing")));
  report.events->tracingIncomplete = sandbox::TracingShortfall{10, 164, 1, "out of descriptors\x1b[2J"};
  std::string text = renderReportText(report, plainStyle());
  EXPECT_THAT(text, HasSubstr("tracing    incomplete: 164 execs not recorded, 1 exit not followed "
                              "(out of descriptors\\x1b[2J)\n"));
}

TEST(ReportJson, CarriesTheTracingShortfallOrNull) {
  JobReport report = fileReport(result(sandbox::Outcome::exited, 0));
  ParsedJson complete(renderReportJson(report, withProcesses()));
  auto none = member(complete.root(), "tracing_incomplete");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->which(), capnp::JsonValue::NULL_);
  report.events->tracingIncomplete = sandbox::TracingShortfall{10, 0, 1218, "out of descriptors"};
  ParsedJson json(renderReportJson(report, withProcesses()));
  auto tracing = *member(json.root(), "tracing_incomplete");
  EXPECT_DOUBLE_EQ(numberMember(tracing, "missed_execs"), 0);
  EXPECT_DOUBLE_EQ(numberMember(tracing, "missed_exits"), 1218);
  EXPECT_EQ(stringMember(tracing, "reason"), "out of descriptors");
}

TEST(FormatBytes, Units) {
  EXPECT_EQ(formatBytes(0), "0 B");
  EXPECT_EQ(formatBytes(1023), "1023 B");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB");
  EXPECT_EQ(formatBytes(5ull << 30), "5.0 GiB");
}

}  // namespace
}  // namespace jobtape::recorder
