#include "recorder/inspect/chrome_trace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "recorder/events/event_writer.h"
#include "recorder/events/events_test_support.h"
#include "recorder/inspect/json_testing.h"

namespace jobtape::recorder {
namespace {

using jobtape::testing::member;
using jobtape::testing::numberMember;
using jobtape::testing::ParsedJson;
using jobtape::testing::stringMember;
using ::testing::ElementsAre;

using Interval = std::pair<uint64_t, uint64_t>;

// Slices on one lane must be disjoint or nested: what the trace viewer needs.
void expectLanesNest(const std::vector<Interval>& intervals, const std::vector<int>& lanes, Interval outer) {
  ASSERT_EQ(intervals.size(), lanes.size());
  std::map<int, std::vector<Interval>> byLane;
  byLane[0].push_back(outer);
  for (size_t i = 0; i < intervals.size(); ++i) byLane[lanes[i]].push_back(intervals[i]);
  for (const auto& [lane, spans] : byLane) {
    for (size_t a = 0; a < spans.size(); ++a) {
      for (size_t b = a + 1; b < spans.size(); ++b) {
        auto [s1, e1] = spans[a];
        auto [s2, e2] = spans[b];
        bool disjoint = e1 <= s2 || e2 <= s1;
        bool nested = (s1 <= s2 && e2 <= e1) || (s2 <= s1 && e1 <= e2);
        EXPECT_TRUE(disjoint || nested) << "lane " << lane << ": [" << s1 << "," << e1 << ") and [" << s2 << ","
                                        << e2 << ")";
      }
    }
  }
}

TEST(AssignLanes, NestedProcessesShareTheJobsLane) {
  // make -> sh -> cc, one after the other: a call stack.
  std::vector<Interval> intervals = {{0, 100}, {10, 90}, {20, 30}, {40, 80}};
  auto lanes = assignLanes(intervals, {0, 100});
  EXPECT_THAT(lanes, ElementsAre(0, 0, 0, 0));
}

TEST(AssignLanes, OverlappingSiblingsGoToExtraLanes) {
  // make -j3: three compilers that overlap without nesting.
  std::vector<Interval> intervals = {{0, 100}, {10, 50}, {20, 60}, {30, 70}, {60, 90}};
  auto lanes = assignLanes(intervals, {0, 100});
  expectLanesNest(intervals, lanes, {0, 100});
  EXPECT_EQ(lanes[0], 0);
  EXPECT_EQ(lanes[1], 0);  // fits inside make
  EXPECT_NE(lanes[2], lanes[1]);
  EXPECT_NE(lanes[3], lanes[2]);
  EXPECT_EQ(*std::max_element(lanes.begin(), lanes.end()), 2);  // three compilers at once: three lanes
}

TEST(AssignLanes, ManyRandomishIntervalsAlwaysNest) {
  std::vector<Interval> intervals;
  uint64_t seed = 12345;
  for (int i = 0; i < 300; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t start = (seed >> 33) % 1000;
    uint64_t length = (seed >> 13) % 200;
    intervals.emplace_back(start, std::min<uint64_t>(start + length, 1000));
  }
  auto lanes = assignLanes(intervals, {0, 1000});
  expectLanesNest(intervals, lanes, {0, 1000});
}

TEST(ReadJobTimeline, TurnsExecsAndExitsIntoSpans) {
  testing::TempDir dir;
  auto path = dir / "events.bin.zst";
  {
    auto writer = EventWriter::create(path, testing::sampleDescription());
    writer->exec({0, 1, 0, "/usr/bin/make", {"make", "-j2"}, "/src"});
    writer->exec({1'000'000, 7, 1, "/bin/sh", {"sh", "-c", "cc -c a.c"}, "/src"});
    writer->exec({2'000'000, 7, 1, "/usr/bin/cc", {"cc", "-c", "a.c"}, "/src"});  // sh exec'd cc in place
    writer->output(sandbox::Stream::stderr_, 2'500'000, std::span<const char>("warning\n", 8));
    writer->processExit({5'000'000, 7, true, 1, 0});
    writer->processExit({6'000'000, 1, true, 2, 0});
    writer->finish(testing::exitedWith(2));
  }
  auto reader = EventReader::open(path);
  auto timeline = readJobTimeline(*reader);
  EXPECT_EQ(timeline.startedAtUnixNs, testing::sampleDescription().startedAtUnixNs);
  ASSERT_TRUE(timeline.finishedNs);
  EXPECT_FALSE(timeline.damage);
  ASSERT_EQ(timeline.processes.size(), 3u);
  const auto& make = timeline.processes[0];
  EXPECT_EQ(make.argv, (std::vector<std::string>{"make", "-j2"}));
  EXPECT_EQ(make.startNs, 0u);
  EXPECT_EQ(make.endNs, 6'000'000u);
  EXPECT_TRUE(make.exited);
  EXPECT_EQ(make.exitCode, 2);
  const auto& sh = timeline.processes[1];
  EXPECT_EQ(sh.endNs, 2'000'000u);
  EXPECT_TRUE(sh.replacedByExec);
  EXPECT_FALSE(sh.exited);
  const auto& cc = timeline.processes[2];
  EXPECT_EQ(cc.pid, 7);
  EXPECT_EQ(cc.ppid, 1);
  EXPECT_EQ(cc.startNs, 2'000'000u);
  EXPECT_EQ(cc.endNs, 5'000'000u);
  EXPECT_EQ(cc.exitCode, 1);
}

TEST(ReadJobTimeline, ProcessesWithoutAnExitEndWithTheJob) {
  testing::TempDir dir;
  auto path = dir / "events.bin.zst";
  {
    auto writer = EventWriter::create(path, testing::sampleDescription());
    writer->exec({0, 1, 0, "/bin/sleep", {"sleep", "1"}, "/"});
    auto result = testing::exitedWith(0);
    result.wallNs = 9'000'000;
    writer->finish(result);
  }
  auto reader = EventReader::open(path);
  auto timeline = readJobTimeline(*reader);
  ASSERT_EQ(timeline.processes.size(), 1u);
  EXPECT_EQ(timeline.processes[0].endNs, 9'000'000u);
  EXPECT_FALSE(timeline.processes[0].exited);
}

TraceBuild sampleTrace() {
  TraceBuild trace;
  trace.build.id = "01JD4X7QAB0000000000000000";
  trace.build.startedAtMs = 1'000'000;
  trace.build.stoppedAtMs = 1'000'050;
  trace.build.result = "failed";
  trace.build.commandLine = "jobtape run -- make";
  TraceJob job;
  job.row.id = "01JD4X7QAC0000000000000000";
  job.row.name = "make";
  job.row.command = "make -j2";
  job.row.status = store::JobStatus::failed;
  job.row.exitCode = 2;
  job.row.startedAtMs = 1'000'010;
  job.row.stoppedAtMs = 1'000'040;
  JobTimeline timeline;
  timeline.startedAtUnixNs = 1'000'010 * 1'000'000LL;
  timeline.finishedNs = 30'000'000;
  ProcessSpan make{1, 0, {"make", "-j2"}, "/usr/bin/make", "/src", 0, 30'000'000, true, false, true, 2, 0};
  ProcessSpan cc1{7, 1, {"cc", "a.c"}, "/usr/bin/cc", "/src", 1'000'000, 20'000'000, true, false, true, 0, 0};
  ProcessSpan cc2{8, 1, {"cc", "b.c"}, "/usr/bin/cc", "/src", 2'000'000, 25'000'000, true, false, true, 1, 0};
  timeline.processes = {make, cc1, cc2};
  job.timeline = timeline;
  trace.jobs.push_back(job);
  TraceBuild nested;
  nested.build.id = "01JD4X7QAD0000000000000000";
  nested.build.startedAtMs = 1'000'020;
  nested.build.stoppedAtMs = 1'000'030;
  nested.build.result = "failed";
  nested.build.parentJobId = job.row.id;
  trace.nested.push_back(nested);
  return trace;
}

TEST(ChromeTraceJson, HasTheBuildTheJobAndItsProcesses) {
  auto text = chromeTraceJson(sampleTrace(), 2'000'000);
  ParsedJson parsed(text);
  auto events = member(parsed.root(), "traceEvents");
  ASSERT_TRUE(events);
  std::map<std::string, std::vector<capnp::JsonValue::Reader>> spans;  // by category
  std::set<std::string> phases;
  for (auto event : events->getArray()) {
    auto phase = stringMember(event, "ph");
    phases.insert(phase);
    if (phase == "X") spans[stringMember(event, "cat")].push_back(event);
  }
  EXPECT_TRUE(phases.count("M"));
  EXPECT_TRUE(phases.count("s") && phases.count("f")) << "a flow from the job to its nested build";
  ASSERT_EQ(spans["build"].size(), 2u);
  auto top = spans["build"][0];
  EXPECT_EQ(numberMember(top, "ts"), 0);
  EXPECT_EQ(numberMember(top, "dur"), 50'000);  // 50 ms in µs
  EXPECT_EQ(numberMember(spans["build"][1], "ts"), 20'000);
  EXPECT_NE(numberMember(spans["build"][1], "pid"), numberMember(top, "pid"));
  ASSERT_EQ(spans["job"].size(), 1u);
  auto job = spans["job"][0];
  EXPECT_EQ(stringMember(job, "name"), "make");
  EXPECT_EQ(numberMember(job, "ts"), 10'000);
  EXPECT_EQ(numberMember(job, "dur"), 30'000);
  ASSERT_EQ(spans["process"].size(), 3u);
  double jobTid = numberMember(job, "tid");
  EXPECT_EQ(numberMember(spans["process"][0], "tid"), jobTid);  // make nests under the job
  EXPECT_EQ(numberMember(spans["process"][1], "tid"), jobTid);  // first cc nests under make
  EXPECT_NE(numberMember(spans["process"][2], "tid"), jobTid);  // the overlapping cc gets its own track
  EXPECT_EQ(numberMember(spans["process"][1], "ts"), 11'000);
  EXPECT_EQ(stringMember(spans["process"][2], "name"), "cc");
}

TEST(ChromeTraceJson, ARunningBuildEndsNow) {
  auto trace = sampleTrace();
  trace.build.stoppedAtMs.reset();
  trace.build.result.reset();
  auto text = chromeTraceJson(trace, 1'000'500);
  ParsedJson parsed(text);
  for (auto event : member(parsed.root(), "traceEvents")->getArray()) {
    if (stringMember(event, "ph") == "X" && stringMember(event, "cat") == "build" &&
        numberMember(event, "ts") == 0) {
      EXPECT_EQ(numberMember(event, "dur"), 500'000);
      return;
    }
  }
  ADD_FAILURE() << "no top build span";
}

}  // namespace
}  // namespace jobtape::recorder
