// `jobtape run` at a terminal: the job runs on terminals of its own (one for
// stdout, one for stderr, from the sandbox's own devpts), sized like ours,
// resized with ours, with our keyboard as its input; and without a terminal,
// our stdin piped through. The test is the person at the keyboard: jobtape
// runs on the slave side of a real pseudo-terminal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <termios.h>

#include "tests/cli_actions/actions_fixture.h"

namespace jobtape::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> runArgs(const ActionsHome& home, const std::vector<std::string>& options,
                                 const std::string& script) {
  std::vector<std::string> args = {"run", "--project", home.project().string()};
  args.insert(args.end(), options.begin(), options.end());
  args.insert(args.end(), {"--", "sh", "-c", script});
  return args;
}

// Sends `text` until `answer` shows up: the job may not be reading yet.
bool ask(TerminalRun& terminal, const std::string& text, const std::string& answer) {
  size_t mark = terminal.output().size();
  for (int attempt = 0; attempt < 30; ++attempt) {
    terminal.send(text);
    if (terminal.waitFor(answer, mark, std::chrono::seconds(2))) return true;
  }
  return false;
}

// What the job sees of its stdio, one word per fact.
constexpr const char* kProbe =
    "test -t 1 && echo stdout-is-tty; test -t 2 && echo stderr-is-tty >&2; "
    "o=$(readlink /proc/$$/fd/1); e=$(readlink /proc/$$/fd/2); "
    "[ \"$o\" != \"$e\" ] && echo apart-$o-$e; "
    "(exec 3</dev/tty) 2>/dev/null && echo has-controlling-tty; "
    "exec 3>&1; echo size-$(stty size <&3)";

TEST(JobTerminal, AJobAtATerminalRunsOnTerminalsOfItsOwn) {
  ActionsHome home;
  TerminalRun terminal(home, runArgs(home, {}, kProbe));
  ASSERT_EQ(terminal.wait(), 0) << terminal.output();
  const std::string& seen = terminal.output();
  EXPECT_THAT(seen, HasSubstr("stdout-is-tty"));
  EXPECT_THAT(seen, HasSubstr("stderr-is-tty"));
  // Two terminals of the sandbox's own devpts (numbered from 0 there).
  EXPECT_THAT(seen, HasSubstr("apart-/dev/pts/0-/dev/pts/1")) << seen;
  EXPECT_THAT(seen, HasSubstr("has-controlling-tty"));
  EXPECT_THAT(seen, HasSubstr("size-24 80"));  // TerminalRun's window

  // Recorded stream by stream, "\n" as the job wrote it.
  ProcessResult err = home.jobtape({"job", "logs", "last", "--stderr"});
  EXPECT_EQ(err.out, "stderr-is-tty\n") << err.err;
  ProcessResult show = home.jobtape({"job", "show", "last"});
  EXPECT_THAT(show.out, ContainsRegex("\nterminal +yes")) << show.out;
  ProcessResult json = home.jobtape({"job", "show", "last", "--json"});
  EXPECT_THAT(json.out, HasSubstr("\"terminal\": true")) << json.out;
}

TEST(JobTerminal, NoTtyGivesPipesAtATerminal) {
  ActionsHome home;
  TerminalRun terminal(home, runArgs(home, {"--no-tty"}, kProbe));
  ASSERT_EQ(terminal.wait(), 0) << terminal.output();
  EXPECT_THAT(terminal.output(), Not(HasSubstr("stdout-is-tty")));
  EXPECT_THAT(terminal.output(), Not(HasSubstr("has-controlling-tty")));
  ProcessResult show = home.jobtape({"job", "show", "last"});
  EXPECT_THAT(show.out, ContainsRegex("\nterminal +no")) << show.out;
}

TEST(JobTerminal, NoTerminalWhenOurOutputIsNotOneUnlessAsked) {
  ActionsHome home;
  ProcessResult piped = home.record(kProbe);
  ASSERT_EQ(piped.exitStatus, 0) << piped.err;
  EXPECT_THAT(piped.out, Not(HasSubstr("stdout-is-tty")));
  ProcessResult asked = home.record(kProbe, {"--tty"});
  ASSERT_EQ(asked.exitStatus, 0) << asked.err;
  EXPECT_THAT(asked.out, HasSubstr("stdout-is-tty"));
  EXPECT_THAT(asked.out, HasSubstr("size-24 80"));  // no terminal to copy from
  ProcessResult both = home.record("true", {"--tty", "--no-tty"});
  EXPECT_EQ(both.exitStatus, 2);
  EXPECT_THAT(both.err, HasSubstr("jobtape: error: --tty and --no-tty"));
}

TEST(JobTerminal, RecordOnlyJobsGetTerminalsToo) {
  ActionsHome home;
  TerminalRun terminal(home, runArgs(home, {"--no-sandbox"}, "test -t 1 && test -t 2 && echo both-ttys"));
  ASSERT_EQ(terminal.wait(), 0) << terminal.output();
  EXPECT_THAT(terminal.output(), HasSubstr("both-ttys"));
}

TEST(JobTerminal, TypedInputReachesTheJobAndModesComeBack) {
  ActionsHome home;
  const unsigned before = TerminalRun(home, {"--version"}).localModes();
  ASSERT_NE(before & ICANON, 0u);
  TerminalRun terminal(home, runArgs(home, {}, "echo ready; read line; echo got-$line"));
  ASSERT_TRUE(terminal.waitFor("ready")) << terminal.output();
  // Line editing is the job's terminal's now, not ours.
  EXPECT_EQ(terminal.localModes() & (ICANON | ECHO), 0u);
  EXPECT_NE(terminal.localModes() & ISIG, 0u);  // Ctrl-C still ours
  terminal.send("typed\n");
  ASSERT_EQ(terminal.wait(), 0) << terminal.output();
  EXPECT_THAT(terminal.output(), HasSubstr("got-typed"));
  EXPECT_EQ(terminal.localModes() & (ICANON | ECHO | ISIG), before & (ICANON | ECHO | ISIG));
}

TEST(JobTerminal, WindowResizesReachTheJob) {
  ActionsHome home;
  TerminalRun terminal(home, runArgs(home, {}, "echo ready; while read line; do echo size-$(stty size); done"));
  ASSERT_TRUE(terminal.waitFor("ready")) << terminal.output();
  terminal.resize(40, 100);
  ASSERT_TRUE(ask(terminal, "x\n", "size-40 100")) << terminal.output();
  terminal.send("\x04");  // end of input at the job's terminal
  EXPECT_EQ(terminal.wait(), 0) << terminal.output();
}

TEST(JobTerminal, CtrlCStopsTheWholeTreeAndRestoresTheTerminal) {
  ActionsHome home;
  const unsigned before = TerminalRun(home, {"--version"}).localModes();
  TerminalRun terminal(home, runArgs(home, {}, "sleep 1000 & echo started; wait"));
  ASSERT_TRUE(terminal.waitFor("started")) << terminal.output();
  terminal.send("\x03");
  EXPECT_EQ(terminal.wait(), 130) << terminal.output();
  EXPECT_EQ(terminal.localModes() & (ICANON | ECHO), before & (ICANON | ECHO));
  ProcessResult show = home.jobtape({"job", "show", "last"});
  EXPECT_THAT(show.out, HasSubstr("SIGINT")) << show.out;
}

TEST(JobInput, PipedStdinReachesTheJob) {
  ActionsHome home;
  ProcessOptions options;
  options.stdinText = "hi\n";
  ProcessResult result = home.jobtape(runArgs(home, {}, "read x; echo got:$x"), options);
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_EQ(result.out, "got:hi\n");
  // The job's stdin is a pipe of ours, not our file.
  options.stdinText = "abc";
  result = home.jobtape(runArgs(home, {}, "test -p /dev/stdin && wc -c"), options);
  EXPECT_EQ(result.out, "3\n") << result.err;
}

TEST(JobInput, MuchInputArrivesWholeAndUnreadInputDoesNotHang) {
  ActionsHome home;
  ProcessOptions options;
  options.stdinText = std::string(3 << 20, 'x');
  ProcessResult counted = home.jobtape(runArgs(home, {}, "wc -c"), options);
  ASSERT_EQ(counted.exitStatus, 0) << counted.err;
  EXPECT_EQ(counted.out, std::to_string(3 << 20) + "\n");
  // jobtape ends with its job, leaving the rest unread: our write meets a
  // closed pipe, as `head -c 3M /dev/zero | jobtape run -- true` would.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  ProcessResult unread = home.jobtape(runArgs(home, {}, "echo done"), options);
  ::sigaction(SIGPIPE, &previous, nullptr);
  EXPECT_EQ(unread.exitStatus, 0) << unread.err;
  EXPECT_EQ(unread.out, "done\n");
}

TEST(JobInput, PipedStdinAlsoWithTty) {
  ActionsHome home;
  ProcessOptions options;
  options.stdinText = "line one\n";
  ProcessResult result = home.jobtape(runArgs(home, {"--tty"}, "test -t 1 && read x && echo got:$x"), options);
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("got:line one"));
}

}  // namespace
}  // namespace jobtape::testing
