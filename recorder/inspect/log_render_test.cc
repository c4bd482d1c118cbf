#include "recorder/inspect/log_render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "recorder/inspect/json_testing.h"

namespace jobtape::recorder {
namespace {

using jobtape::testing::member;
using jobtape::testing::numberMember;
using jobtape::testing::ParsedJson;
using jobtape::testing::stringMember;
using sandbox::Stream;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kMs = 1'000'000;

Event out(Stream stream, uint64_t ms, std::string bytes) {
  Event event;
  event.kind = Event::Kind::output;
  event.output = {stream, ms * kMs, std::move(bytes)};
  return event;
}
Event so(uint64_t ms, std::string bytes) { return out(Stream::stdout_, ms, std::move(bytes)); }
Event se(uint64_t ms, std::string bytes) { return out(Stream::stderr_, ms, std::move(bytes)); }

Event finished(uint64_t ms, int exitCode) {
  Event event;
  event.kind = Event::Kind::jobFinished;
  event.finished.result.exitCode = exitCode;
  event.finished.result.wallNs = ms * kMs;
  event.finished.resultName = exitCode == 0 ? "succeeded" : "failed";
  return event;
}

Event exec(uint64_t ms, int pid, std::vector<std::string> argv) {
  Event event;
  event.kind = Event::Kind::exec;
  event.exec.record.elapsedNs = ms * kMs;
  event.exec.record.pid = pid;
  event.exec.record.argv = std::move(argv);
  return event;
}

JobDescription description() {
  JobDescription d;
  d.jobId = "01JD4ZK3M8X9V0W1Y2Z3A4B5C6";
  d.buildId = "01JD4ZK3M0000000000000000B";
  d.recipe.command = "sh";
  d.recipe.args = {"-c", "echo 'hi there'"};
  d.recipe.name = "greeting";
  d.recipe.env = {{"TERM", "xterm"}, {"PATH", "/usr/bin"}};
  d.startedAtUnixNs = 1'700'000'000'500'000'000;
  d.host = "builder";
  return d;
}

// Feeds `events` as a non-following `job logs` does: all, then catch up.
std::string render(const std::vector<Event>& events, const LogOptions& options) {
  JobDescription d = description();
  StringSink sink;
  LogRenderer renderer(d, options, sink);
  for (const auto& event : events) renderer.add(event);
  renderer.catchUp();
  renderer.finish();
  return sink.text;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) result.push_back(line);
  return result;
}

const std::vector<Event> kInterleaved = {
    so(1, "out 1\n"), se(2, "err 1\n"), so(3, "out 2\nout 3\n"), se(4, "err 2\n"),
    so(5, "out 4\n"), finished(6, 1),
};

TEST(LogRender, TextIsTheRawBytesInTheOrderTheyCame) {
  EXPECT_EQ(render(kInterleaved, {}), "out 1\nerr 1\nout 2\nout 3\nerr 2\nout 4\n");
}

TEST(LogRender, TextKeepsArbitraryBytesUntouched) {
  std::string bytes("\x00\xFF\x1b[31mred\r\n", 11);
  EXPECT_EQ(render({so(1, bytes)}, {}), bytes);
}

TEST(LogRender, StreamFilters) {
  LogOptions options;
  options.streams = StreamFilter::stderrOnly;
  EXPECT_EQ(render(kInterleaved, options), "err 1\nerr 2\n");
  options.streams = StreamFilter::stdoutOnly;
  EXPECT_EQ(render(kInterleaved, options), "out 1\nout 2\nout 3\nout 4\n");
}

TEST(LogRender, TimestampsPrefixEveryLineWithTheTimeItsFirstByteCame) {
  LogOptions options;
  options.timestamps = true;
  std::vector<Event> events = {so(1, "a\nb"), so(1500, "c\n"), se(2000, "d\n\n"), so(61'234, "e")};
  EXPECT_EQ(render(events, options),
            "[   0.001s] a\n"
            "[   0.001s] bc\n"
            "[   2.000s] d\n"
            "[   2.000s] \n"
            "[  61.234s] e");
}

TEST(LogRender, TailKeepsTheLastLines) {
  LogOptions options;
  options.tailLines = 3;
  EXPECT_EQ(render(kInterleaved, options), "out 3\nerr 2\nout 4\n");
  options.tailLines = 1;
  EXPECT_EQ(render(kInterleaved, options), "out 4\n");
  options.tailLines = 100;
  EXPECT_EQ(render(kInterleaved, options), "out 1\nerr 1\nout 2\nout 3\nerr 2\nout 4\n");
  options.tailLines = 0;
  EXPECT_EQ(render(kInterleaved, options), "");
}

TEST(LogRender, TailCountsAnUnfinishedLastLine) {
  LogOptions options;
  options.tailLines = 2;
  EXPECT_EQ(render({so(1, "a\nb\nc\npartial")}, options), "c\npartial");
  EXPECT_EQ(render({so(1, "a\nb\n"), so(2, "\n")}, options), "b\n\n");
}

TEST(LogRender, TailAppliesAfterTheStreamFilter) {
  LogOptions options;
  options.tailLines = 2;
  options.streams = StreamFilter::stdoutOnly;
  EXPECT_EQ(render(kInterleaved, options), "out 3\nout 4\n");
}

TEST(LogRender, TailOverManyChunksKeepsOnlyTheEnd) {
  std::vector<Event> events;
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    events.push_back(so(static_cast<uint64_t>(i), "line " + std::to_string(i) + "\n"));
    if (i >= 4990) expected += "line " + std::to_string(i) + "\n";
  }
  LogOptions options;
  options.tailLines = 10;
  EXPECT_EQ(render(events, options), expected);
}

TEST(LogRender, TailWithTimestampsUsesEachLinesTime) {
  LogOptions options;
  options.tailLines = 2;
  options.timestamps = true;
  EXPECT_EQ(render({so(1000, "x\ny\n"), so(2000, "z\n")}, options), "[   1.000s] y\n[   2.000s] z\n");
}

TEST(LogRender, FollowingWritesNewEventsAtOnceAfterCatchingUp) {
  JobDescription d = description();
  StringSink sink;
  LogOptions options;
  options.tailLines = 1;
  LogRenderer renderer(d, options, sink);
  renderer.add(so(1, "old 1\nold 2\n"));
  EXPECT_EQ(sink.text, "");  // held: the tail is not known yet
  renderer.catchUp();
  EXPECT_EQ(sink.text, "old 2\n");
  renderer.add(so(2, "new\n"));
  EXPECT_EQ(sink.text, "old 2\nnew\n");
}

TEST(LogRender, JsonIsOneParsableObjectPerEventStartingWithTheDescription) {
  LogOptions options;
  options.format = LogFormat::json;
  std::vector<Event> events = {exec(0, 1, {"sh", "-c", "x"}), so(1, "hello\n"),
                               se(2, std::string("bad \xFF byte", 10)), finished(3, 2)};
  auto rows = lines(render(events, options));
  ASSERT_EQ(rows.size(), 5u);
  ParsedJson started(rows[0]);
  EXPECT_EQ(stringMember(started.root(), "event"), "job_started");
  EXPECT_EQ(stringMember(started.root(), "job_id"), "01JD4ZK3M8X9V0W1Y2Z3A4B5C6");
  EXPECT_EQ(stringMember(started.root(), "started_at"), "2023-11-14T22:13:20.500Z");
  ParsedJson execRow(rows[1]);
  EXPECT_EQ(stringMember(execRow.root(), "event"), "exec");
  ParsedJson first(rows[2]);
  EXPECT_EQ(stringMember(first.root(), "stream"), "stdout");
  EXPECT_EQ(stringMember(first.root(), "data"), "hello\n");
  EXPECT_DOUBLE_EQ(numberMember(first.root(), "elapsed_ns"), 1e6);
  EXPECT_FALSE(member(first.root(), "base64"));
  ParsedJson second(rows[3]);
  EXPECT_EQ(stringMember(second.root(), "stream"), "stderr");
  EXPECT_EQ(stringMember(second.root(), "base64"), "YmFkIP8gYnl0ZQ==");  // exact bytes kept
  ParsedJson last(rows[4]);
  EXPECT_EQ(stringMember(last.root(), "event"), "job_finished");
  EXPECT_EQ(stringMember(last.root(), "result"), "failed");
  EXPECT_DOUBLE_EQ(numberMember(last.root(), "exit_code"), 2);
}

TEST(LogRender, TracingIncompleteIsAJsonEventAndKeptForTheTextCaller) {
  Event incomplete;
  incomplete.kind = Event::Kind::tracingIncomplete;
  incomplete.tracingIncomplete = {7 * kMs, 164, 2, "out of descriptors"};
  std::vector<Event> events = {so(1, "a\n"), incomplete, finished(8, 0)};
  std::vector<std::string> rows = lines(render(events, {.format = LogFormat::json}));
  ASSERT_EQ(rows.size(), 4u);
  ParsedJson row(rows[2]);
  EXPECT_EQ(stringMember(row.root(), "event"), "tracing_incomplete");
  EXPECT_DOUBLE_EQ(numberMember(row.root(), "missed_execs"), 164);
  EXPECT_DOUBLE_EQ(numberMember(row.root(), "missed_exits"), 2);
  EXPECT_EQ(stringMember(row.root(), "reason"), "out of descriptors");
  // Text is the job's bytes only; the renderer keeps the shortfall to say aside.
  JobDescription d = description();
  StringSink sink;
  LogRenderer renderer(d, {}, sink);
  for (const auto& event : events) renderer.add(event);
  renderer.finish();
  EXPECT_EQ(sink.text, "a\n");
  ASSERT_TRUE(renderer.tracingIncomplete());
  EXPECT_EQ(renderer.tracingIncomplete()->missedExecs, 164u);
}

TEST(LogRender, JsonOfAnEmptyLogStillDescribesTheJob) {
  LogOptions options;
  options.format = LogFormat::json;
  auto rows = lines(render({}, options));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(stringMember(ParsedJson(rows[0]).root(), "event"), "job_started");
}

TEST(LogRender, CastIsAsciicastV2WithTerminalLineEndsAndIncreasingTimes) {
  LogOptions options;
  options.format = LogFormat::cast;
  options.castDurationNs = 1500 * kMs;  // writeLogs reads it ahead from the file
  std::vector<Event> events = {so(100, "one\n"), se(250, "two\r\n"), so(200, "three\n"), finished(1500, 0)};
  auto rows = lines(render(events, options));
  ASSERT_EQ(rows.size(), 4u);
  ParsedJson header(rows[0]);
  EXPECT_DOUBLE_EQ(numberMember(header.root(), "version"), 2);
  EXPECT_DOUBLE_EQ(numberMember(header.root(), "width"), 80);
  EXPECT_DOUBLE_EQ(numberMember(header.root(), "height"), 24);
  EXPECT_DOUBLE_EQ(numberMember(header.root(), "timestamp"), 1'700'000'000);
  EXPECT_DOUBLE_EQ(numberMember(header.root(), "duration"), 1.5);
  EXPECT_EQ(stringMember(header.root(), "command"), "sh -c 'echo '\\''hi there'\\'''");
  EXPECT_EQ(stringMember(header.root(), "title"), "greeting");
  EXPECT_EQ(stringMember(*member(header.root(), "env"), "TERM"), "xterm");

  std::vector<std::string> data;
  double previous = -1;
  for (size_t i = 1; i < rows.size(); ++i) {
    ParsedJson row(rows[i]);
    auto items = row.root().getArray();
    ASSERT_EQ(items.size(), 3u);
    double time = items[0].getNumber();
    EXPECT_GE(time, previous);  // 0.200 came after 0.250: clamped, never backwards
    previous = time;
    EXPECT_EQ(std::string(items[1].getString().cStr()), "o");
    data.emplace_back(items[2].getString().cStr());
  }
  EXPECT_EQ(data, (std::vector<std::string>{"one\r\n", "two\r\n", "three\r\n"}));
}

TEST(LogRender, CastKeepsACharacterSplitAcrossChunksWhole) {
  LogOptions options;
  options.format = LogFormat::cast;
  auto rows = lines(render({so(1, "caf\xC3"), so(2, "\xA9!\n"), so(3, "\xE2\x82")}, options));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(std::string(ParsedJson(rows[1]).root().getArray()[2].getString().cStr()), "caf");
  EXPECT_EQ(std::string(ParsedJson(rows[2]).root().getArray()[2].getString().cStr()), "\xC3\xA9!\r\n");
  // A character that never completed is shown, not dropped.
  EXPECT_EQ(std::string(ParsedJson(rows[3]).root().getArray()[2].getString().cStr()),
            "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(LogRender, CastStreamsWithoutHoldingTheOutput) {
  JobDescription d = description();
  StringSink sink;
  LogOptions options;
  options.format = LogFormat::cast;
  options.castDurationNs = 2 * kMs;
  LogRenderer renderer(d, options, sink);
  renderer.add(so(1, "first\n"));
  auto rows = lines(sink.text);
  ASSERT_EQ(rows.size(), 2u) << "the header and the first chunk, before the end";
  EXPECT_DOUBLE_EQ(numberMember(ParsedJson(rows[0]).root(), "duration"), 0.002);
  renderer.add(finished(2, 0));
  renderer.finish();
  EXPECT_EQ(lines(sink.text).size(), 2u);
}

TEST(LogRender, TailOfOneHugeLineKeepsItsLastWindow) {
  JobDescription d = description();
  StringSink sink;
  LogOptions options;
  options.tailLines = 1;
  LogRenderer renderer(d, options, sink);
  std::string chunk(1 << 20, 'x');
  chunk.back() = 'y';
  for (int i = 0; i < 40; ++i) renderer.add(so(static_cast<uint64_t>(i), chunk));
  renderer.finish();
  EXPECT_EQ(sink.text.size(), kTailWindowBytes);
  EXPECT_EQ(renderer.tailCut(), 40u * chunk.size() - kTailWindowBytes);
  EXPECT_EQ(sink.text.back(), 'y');
}

TEST(LogRender, CastOfARunningJobHasNoDuration) {
  LogOptions options;
  options.format = LogFormat::cast;
  auto rows = lines(render({so(1, "x\n")}, options));
  ASSERT_GE(rows.size(), 1u);
  EXPECT_FALSE(member(ParsedJson(rows[0]).root(), "duration"));
  EXPECT_THAT(rows[0], Not(HasSubstr("duration")));
}

TEST(LogRender, ElapsedPrefixFormat) {
  EXPECT_EQ(elapsedPrefix(1'234'000'000), "[   1.234s] ");
  EXPECT_EQ(elapsedPrefix(0), "[   0.000s] ");
  EXPECT_EQ(elapsedPrefix(12'345'678'000'000), "[12345.678s] ");
}

TEST(LogRender, ParseLogFormat) {
  EXPECT_EQ(parseLogFormat("text"), LogFormat::text);
  EXPECT_EQ(parseLogFormat("json"), LogFormat::json);
  EXPECT_EQ(parseLogFormat("cast"), LogFormat::cast);
  EXPECT_EQ(parseLogFormat("yaml"), std::nullopt);
}

}  // namespace
}  // namespace jobtape::recorder
