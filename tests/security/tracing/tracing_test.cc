// Exec recording against a job that tries to blind it, through the real
// `jobtape run`: every program exec_probe ran must be among the processes
// `job show --processes --json` lists, and a shortfall the supervisor could
// not avoid (too few descriptors to follow every live process) must be
// stated with its count in `job show` and `job logs`, never silent. Runs as
// the caller and again as nobody (meson registers both).
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/inspect/json_testing.h"
#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// One recorded image of a process: argv[0] and the executable as recorded.
struct Recorded {
  std::string executable;
  bool exitKnown = false;  // the process's end was recorded (duration_ns not null)
};

std::string text(capnp::JsonValue::Reader value) {
  auto t = value.getString();
  return std::string(t.begin(), t.end());
}

class TracingProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(EXEC_PROBE)) << EXEC_PROBE;
    fs::create_directories(project());
  }
  fs::path home() const { return dir_.path() / "home"; }
  fs::path project() const { return dir_.path() / "project"; }

  // `jobtape run -- exec_probe ARGS...`, optionally under prlimit; the build
  // tree is bound back in when it lies under /tmp (the job's /tmp is private).
  ProcessResult probe(const std::vector<std::string>& args, const std::string& nofile = "") {
    std::vector<std::string> argv;
    if (!nofile.empty()) argv = {"/usr/bin/prlimit", "--nofile=" + nofile + ":" + nofile};
    argv.insert(argv.end(), {jobtapeBinary().string(), "--home", home().string(), "run", "--project", project().string()});
    for (const std::string& bind : buildTreeBinds()) argv.push_back(bind);
    argv.insert(argv.end(), {"--", EXEC_PROBE});
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgramToEnd(argv, {.unsetEnv = {"NO_COLOR"}, .cwd = project()});
  }

  // argv[0] of every recorded image -> what was recorded of it.
  std::multimap<std::string, Recorded> recorded(const std::string& json) {
    std::multimap<std::string, Recorded> byName;
    ParsedJson parsed(json);
    auto processes = member(parsed.root(), "processes");
    if (!processes || processes->which() != capnp::JsonValue::ARRAY) return byName;
    for (auto process : processes->getArray()) {
      auto duration = member(process, "duration_ns");
      bool exitKnown = duration && duration->which() != capnp::JsonValue::NULL_;
      for (auto image : member(process, "images")->getArray()) {
        auto argv = member(image, "argv")->getArray();
        if (argv.size() == 0) continue;
        byName.emplace(text(argv[0]), Recorded{stringMember(image, "executable"), exitKnown});
      }
    }
    return byName;
  }

  TempDir dir_;
};

TEST_F(TracingProbe, EveryExecThatRanIsRecordedWhateverPathItTook) {
  ProcessResult run = probe({"paths"});
  ASSERT_EQ(run.exitStatus, 0) << run.err;
  std::vector<std::string> ran;
  for (const std::string& line : splitLines(run.out)) {
    if (line.starts_with("ran ")) ran.push_back(line.substr(4));
  }
  // Each way must work in the sandbox, or the probe proves nothing.
  EXPECT_THAT(ran, ::testing::ElementsAre("via-self-root", "via-self-root-dir", "via-self-cwd", "via-relative-link",
                                          "via-proc-self-root", "via-empty-path-fd", "via-o-path-fd", "via-dir-fd",
                                          "via-dir-fd-link", "via-proc-self-fd"));

  ProcessResult show = runJobtapeToEnd(home(), {"job", "show", "last", "--processes", "--json"});
  ASSERT_EQ(show.exitStatus, 0) << show.err;
  auto byName = recorded(show.out);
  for (const std::string& name : ran) EXPECT_EQ(byName.count(name), 1u) << name << " ran unrecorded\n" << show.out;
  // As the process passed it, or the fd's path as it sees it in front.
  auto executableOf = [&](const std::string& name) {
    auto it = byName.find(name);
    return it == byName.end() ? std::string("(not recorded)") : it->second.executable;
  };
  EXPECT_EQ(executableOf("via-relative-link"), "./root-true");
  EXPECT_EQ(executableOf("via-dir-fd"), "/usr/bin/true");
  ParsedJson parsed(show.out);
  auto tracing = member(parsed.root(), "tracing_incomplete");
  ASSERT_TRUE(tracing) << show.out;
  EXPECT_EQ(tracing->which(), capnp::JsonValue::NULL_) << "nothing was missed";
}

TEST_F(TracingProbe, ManyLiveProcessesUnderALowDescriptorLimitAreRecordedAndTheShortfallStated) {
  // 128 descriptors for the supervisor, 600 processes alive at once: far
  // more than it can follow with a pidfd each.
  constexpr int kProcesses = 600;
  ProcessResult run = probe({"fanout", std::to_string(kProcesses)}, "128");
  ASSERT_EQ(run.exitStatus, 0) << run.err;
  ASSERT_THAT(run.out, HasSubstr("ran fanout-cat " + std::to_string(kProcesses) + "\n"));

  ProcessResult show = runJobtapeToEnd(home(), {"job", "show", "last", "--processes", "--json"});
  ASSERT_EQ(show.exitStatus, 0) << show.err;
  auto byName = recorded(show.out);
  auto [first, last] = byName.equal_range("fanout-cat");
  size_t execs = static_cast<size_t>(std::distance(first, last));
  size_t endsUnknown = static_cast<size_t>(std::count_if(first, last, [](const auto& r) { return !r.second.exitKnown; }));

  ParsedJson parsed(show.out);
  auto tracingMember = member(parsed.root(), "tracing_incomplete");
  ASSERT_TRUE(tracingMember && tracingMember->which() == capnp::JsonValue::OBJECT)
      << "nothing says what was missed (" << execs << " of " << kProcesses << " execs recorded)";
  auto tracing = *tracingMember;
  EXPECT_EQ(execs + static_cast<size_t>(numberMember(tracing, "missed_execs")), static_cast<size_t>(kProcesses));
  EXPECT_EQ(execs, static_cast<size_t>(kProcesses)) << "an exec went unrecorded";
  EXPECT_GT(endsUnknown, 0u);
  EXPECT_EQ(static_cast<size_t>(numberMember(tracing, "missed_exits")), endsUnknown);
  EXPECT_EQ(stringMember(tracing, "reason"), "out of descriptors");

  std::string count = std::to_string(endsUnknown);
  ProcessResult text = runJobtapeToEnd(home(), {"job", "show", "last"});
  EXPECT_THAT(text.out, HasSubstr("tracing    incomplete: " + count + " exits not followed (out of descriptors)\n"));
  ProcessResult logs = runJobtapeToEnd(home(), {"job", "logs", "last"});
  EXPECT_EQ(logs.exitStatus, 0);
  EXPECT_THAT(logs.err, HasSubstr("jobtape: tracing incomplete: " + count + " exits not followed (out of descriptors)\n"));
  EXPECT_EQ(logs.out, "ran fanout-cat " + std::to_string(kProcesses) + "\n");
}

}  // namespace
}  // namespace jobtape::testing
