#include "recorder/inspect/job_summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

namespace jobtape::recorder {
namespace {

using ::testing::ElementsAre;

constexpr uint64_t kMs = 1'000'000;

Event exec(uint64_t ms, int pid, int ppid, std::vector<std::string> argv, bool spawned = false) {
  Event event;
  event.kind = Event::Kind::exec;
  event.exec.spawned = spawned;
  event.exec.record.elapsedNs = ms * kMs;
  event.exec.record.pid = pid;
  event.exec.record.ppid = ppid;
  event.exec.record.executable = "/usr/bin/" + argv.front();
  event.exec.record.argv = std::move(argv);
  event.exec.record.cwd = "/src";
  return event;
}

Event exited(uint64_t ms, int pid, int code, int signal = 0) {
  Event event;
  event.kind = Event::Kind::processExit;
  event.processExit.record.elapsedNs = ms * kMs;
  event.processExit.record.pid = pid;
  event.processExit.record.statusKnown = true;
  event.processExit.record.exitCode = code;
  event.processExit.record.signal = signal;
  event.processExit.rusage.maxRssBytes = 4096;
  return event;
}

ProcessTree build(const std::vector<Event>& events) {
  ProcessTreeBuilder builder;
  for (const auto& event : events) builder.add(event);
  return builder.tree();
}

// pid and depth of each row, depth first.
std::vector<std::pair<int, size_t>> shape(const ProcessTree& tree) {
  std::vector<std::pair<int, size_t>> result;
  for (const auto& row : tree.depthFirst()) result.emplace_back(tree.nodes[row.node].pid, row.depth);
  return result;
}

TEST(ProcessTree, ChildrenHangUnderTheirParentInOrder) {
  auto tree = build({
      exec(0, 1, 0, {"sh", "-c", "make"}, true),
      exec(5, 2, 1, {"make"}),
      exec(10, 3, 2, {"cc", "-c", "a.c"}),
      exited(400, 3, 0),
      exec(410, 4, 2, {"cc", "-c", "b.c"}),
      exited(900, 4, 1),
      exited(905, 2, 2),
      exec(906, 5, 1, {"echo", "failed"}),
      exited(907, 5, 0),
      exited(910, 1, 2),
  });
  EXPECT_THAT(shape(tree), ElementsAre(std::pair{1, 0u}, std::pair{2, 1u}, std::pair{3, 2u}, std::pair{4, 2u},
                                       std::pair{5, 1u}));
  const ProcessNode& cc = tree.nodes[2];
  EXPECT_EQ(cc.images.front().argv, (std::vector<std::string>{"cc", "-c", "a.c"}));
  EXPECT_EQ(cc.startNs, 10 * kMs);
  EXPECT_EQ(cc.durationNs(), 390 * kMs);
  EXPECT_EQ(tree.nodes[3].exit->exitCode, 1);
  EXPECT_EQ(tree.nodes[3].rusage->maxRssBytes, 4096u);
  EXPECT_TRUE(tree.nodes[0].spawned);
  EXPECT_FALSE(tree.nodes[1].spawned);
}

TEST(ProcessTree, ExecWithoutForkAddsAnImageToTheSameProcess) {
  auto tree = build({exec(0, 1, 0, {"sh", "-c", "exec make"}, true), exec(3, 1, 0, {"make"}), exited(50, 1, 0)});
  ASSERT_EQ(tree.nodes.size(), 1u);
  ASSERT_EQ(tree.nodes[0].images.size(), 2u);
  EXPECT_EQ(tree.nodes[0].images[1].argv.front(), "make");
  EXPECT_EQ(tree.nodes[0].durationNs(), 50 * kMs);
}

TEST(ProcessTree, AReusedPidIsANewProcess) {
  auto tree = build({exec(0, 1, 0, {"sh"}, true), exec(1, 7, 1, {"true"}), exited(2, 7, 0), exec(3, 7, 1, {"false"}),
                     exited(4, 7, 1)});
  EXPECT_THAT(shape(tree), ElementsAre(std::pair{1, 0u}, std::pair{7, 1u}, std::pair{7, 1u}));
  EXPECT_EQ(tree.nodes[1].images.front().argv.front(), "true");
  EXPECT_EQ(tree.nodes[2].images.front().argv.front(), "false");
  EXPECT_EQ(tree.nodes[2].exit->exitCode, 1);
}

TEST(ProcessTree, UnknownParentsAndUnexecedExitsAreHandled) {
  // ppid 40 never exec'd (a forked subshell): its child becomes a root; an
  // exit for a pid never seen is not invented into the tree.
  auto tree = build({exec(0, 1, 0, {"sh"}, true), exec(2, 41, 40, {"sleep", "1"}), exited(3, 40, 0)});
  EXPECT_THAT(shape(tree), ElementsAre(std::pair{1, 0u}, std::pair{41, 0u}));
  EXPECT_FALSE(tree.nodes[1].exit);
  EXPECT_EQ(tree.nodes[1].durationNs(), std::nullopt);
}

TEST(ProcessTree, AParentThatExitedFirstStillOwnsItsChild) {
  auto tree = build({exec(0, 1, 0, {"sh"}, true), exec(1, 2, 1, {"daemon"}), exited(2, 2, 0), exec(3, 3, 2, {"worker"})});
  EXPECT_THAT(shape(tree), ElementsAre(std::pair{1, 0u}, std::pair{2, 1u}, std::pair{3, 2u}));
}

TEST(ProcessTree, DeepTreesDoNotRecurse) {
  std::vector<Event> events;
  for (int pid = 1; pid <= 20000; ++pid) events.push_back(exec(static_cast<uint64_t>(pid), pid, pid - 1, {"sh"}));
  auto rows = build(events).depthFirst();
  ASSERT_EQ(rows.size(), 20000u);
  EXPECT_EQ(rows.back().depth, 19999u);
}

// An EventReader over a list of events, for summarizeEvents.
class ListReader : public EventReader {
 public:
  ListReader(JobDescription description, std::vector<Event> events, std::optional<Damage> damage)
      : description_(std::move(description)), events_(events.begin(), events.end()), damage_(std::move(damage)) {}
  const JobDescription& description() const override { return description_; }
  std::optional<Event> next() override {
    if (events_.empty()) {
      ended_ = true;
      return std::nullopt;
    }
    Event event = events_.front();
    events_.pop_front();
    return event;
  }
  std::optional<Event> nextFollowing(const std::function<bool()>&) override { return next(); }
  std::optional<Damage> damage() const override { return ended_ ? damage_ : std::nullopt; }

 private:
  JobDescription description_;
  std::deque<Event> events_;
  std::optional<Damage> damage_;
  bool ended_ = false;
};

Event output(sandbox::Stream stream, uint64_t ms, std::string bytes) {
  Event event;
  event.kind = Event::Kind::output;
  event.output = {stream, ms * kMs, std::move(bytes)};
  return event;
}

TEST(Summary, CountsOutputAndKeepsTheFinishAndTheTree) {
  JobDescription description;
  description.jobId = "01JD4ZK3M8X9V0W1Y2Z3A4B5C6";
  Event finish;
  finish.kind = Event::Kind::jobFinished;
  finish.finished.result.exitCode = 3;
  finish.finished.result.wallNs = 1200 * kMs;
  finish.finished.resultName = "failed";
  ListReader reader(description,
                    {exec(0, 1, 0, {"sh"}, true), output(sandbox::Stream::stdout_, 5, "hello\n"),
                     output(sandbox::Stream::stderr_, 6, "oops\n!"), exited(1100, 1, 3), finish},
                    std::nullopt);
  JobSummary summary = summarizeEvents(reader);
  EXPECT_EQ(summary.description.jobId, description.jobId);
  EXPECT_EQ(summary.stdoutBytes, 6u);
  EXPECT_EQ(summary.stderrBytes, 6u);
  EXPECT_EQ(summary.events, 5u);
  EXPECT_EQ(summary.lastElapsedNs, 1200 * kMs);
  ASSERT_TRUE(summary.finished);
  EXPECT_EQ(summary.finished->result.exitCode, 3);
  EXPECT_EQ(summary.processes.nodes.size(), 1u);
  EXPECT_FALSE(summary.damage);
}

TEST(Summary, KeepsWhatTracingMissed) {
  Event incomplete;
  incomplete.kind = Event::Kind::tracingIncomplete;
  incomplete.tracingIncomplete = {5 * kMs, 3, 0, "out of descriptors"};
  ListReader reader({}, {exec(0, 1, 0, {"sh"}, true), incomplete}, std::nullopt);
  JobSummary summary = summarizeEvents(reader);
  ASSERT_TRUE(summary.tracingIncomplete);
  EXPECT_EQ(summary.tracingIncomplete->missedExecs, 3u);
  EXPECT_EQ(tracingIncompleteText(*summary.tracingIncomplete), "3 execs not recorded (out of descriptors)");
  ListReader complete({}, {exec(0, 1, 0, {"sh"}, true)}, std::nullopt);
  EXPECT_FALSE(summarizeEvents(complete).tracingIncomplete);
}

TEST(Summary, ReportsDamage) {
  ListReader reader({}, {output(sandbox::Stream::stdout_, 1, "partial")}, Damage{812, "zstd frame cut short"});
  JobSummary summary = summarizeEvents(reader);
  EXPECT_FALSE(summary.finished);
  ASSERT_TRUE(summary.damage);
  EXPECT_EQ(summary.damage->offset, 812u);
}

}  // namespace
}  // namespace jobtape::recorder
