// `jobtape job debug-shell` at a terminal: an interactive shell on a pty in
// the failed job's sandbox. The test is the person at the keyboard.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli_actions/actions_fixture.h"

namespace jobtape::testing {
namespace {

// Types `command` until `answer` shows up as output: typeahead may be
// discarded while the shell starts or when Ctrl-C flushes the terminal's
// input, as on a real terminal.
bool ask(PtySession& session, const std::string& command, const std::string& answer) {
  size_t mark = session.output().size();
  for (int attempt = 0; attempt < 30; ++attempt) {
    session.send(command);
    if (session.waitFor(answer, mark, std::chrono::seconds(2))) return true;
  }
  return false;
}

class DebugShellOnATerminal : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    home_ = std::make_unique<ActionsHome>(GetParam());
    auto recorded = home_->record("echo from the job > /tmp/marker; exit 1");
    ASSERT_EQ(recorded.exitStatus, 1) << recorded.err;
  }
  std::unique_ptr<ActionsHome> home_;
};

TEST_P(DebugShellOnATerminal, AnswersTypedCommandsAndExits) {
  PtySession session(*home_, {"job", "debug-shell"});
  ASSERT_TRUE(session.waitFor("debug shell (")) << session.output();
  // The echo of the typed line has no 42 in it; the answer ends a line of its
  // own (after whatever escape codes the shell puts at its start).
  ASSERT_TRUE(ask(session, "echo $((6*7))\n", "42\r\n")) << session.output();
  ASSERT_TRUE(ask(session, "cat /tmp/marker\n", "from the job\r\n")) << session.output();
  session.send("exit\n");
  EXPECT_EQ(session.wait(), 0) << session.output();
}

TEST_P(DebugShellOnATerminal, CtrlCReachesTheShellNotJobtape) {
  PtySession session(*home_, {"job", "debug-shell"});
  ASSERT_TRUE(session.waitFor("debug shell (")) << session.output();
  ASSERT_TRUE(ask(session, "echo started-$((2+2))\n", "started-4\r\n")) << session.output();
  session.send("sleep 100\n");
  session.send("\x03");
  // Were the ^C lost or fatal, the answer would not come before the sleep ends.
  ASSERT_TRUE(ask(session, "echo still-$((1+1))-here\n", "still-2-here\r\n")) << session.output();
  session.send("exit 5\n");
  EXPECT_EQ(session.wait(), 5) << session.output();
}

TEST_P(DebugShellOnATerminal, SeesATerminalInside) {
  PtySession session(*home_, {"job", "debug-shell", "--", "sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty"});
  EXPECT_EQ(session.wait(), 0) << session.output();
  EXPECT_THAT(session.output(), ::testing::HasSubstr("on-a-tty"));
}

INSTANTIATE_TEST_SUITE_P(Users, DebugShellOnATerminal, ::testing::ValuesIn(usersToTest()),
                         [](const auto& info) { return userLabel(info.param); });

}  // namespace
}  // namespace jobtape::testing
