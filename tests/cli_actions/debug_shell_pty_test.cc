// `jobtape job debug-shell` at a terminal: an interactive shell on a pty in
// the failed job's sandbox. The test is the person at the keyboard.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/cli_actions/actions_fixture.h"

namespace jobtape::testing {
namespace {

// Types `command` until `answer` shows up as output: typeahead may be
// discarded while the shell starts or when Ctrl-C flushes the terminal's
// input, as on a real terminal.
bool ask(TerminalRun& terminal, const std::string& command, const std::string& answer) {
  size_t mark = terminal.output().size();
  for (int attempt = 0; attempt < 30; ++attempt) {
    terminal.send(command);
    if (terminal.waitFor(answer, mark, std::chrono::seconds(2))) return true;
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
  TerminalRun terminal(*home_, {"job", "debug-shell"});
  ASSERT_TRUE(terminal.waitFor("debug shell (")) << terminal.output();
  // The echo of the typed line has no 42 in it; the answer ends a line of its
  // own (after whatever escape codes the shell puts at its start).
  ASSERT_TRUE(ask(terminal, "echo $((6*7))\n", "42\r\n")) << terminal.output();
  ASSERT_TRUE(ask(terminal, "cat /tmp/marker\n", "from the job\r\n")) << terminal.output();
  terminal.send("exit\n");
  EXPECT_EQ(terminal.wait(), 0) << terminal.output();
}

TEST_P(DebugShellOnATerminal, CtrlCReachesTheShellNotJobtape) {
  TerminalRun terminal(*home_, {"job", "debug-shell"});
  ASSERT_TRUE(terminal.waitFor("debug shell (")) << terminal.output();
  ASSERT_TRUE(ask(terminal, "echo started-$((2+2))\n", "started-4\r\n")) << terminal.output();
  terminal.send("sleep 100\n");
  // Were the ^C lost or fatal, the answer would not come before the sleep
  // ends. It goes again with each try, as a person presses it again: one that
  // comes before the shell has put the sleep in the foreground is the shell's
  // own (a busy machine made that happen), and the sleep goes on.
  // (A ^C flushes the input queue, so the command follows it a moment later.)
  bool answered = false;
  size_t mark = terminal.output().size();
  for (int attempt = 0; attempt < 20 && !answered; ++attempt) {
    terminal.send("\x03");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    terminal.send("echo still-$((1+1))-here\n");
    answered = terminal.waitFor("still-2-here\r\n", mark, std::chrono::seconds(2));
  }
  ASSERT_TRUE(answered) << terminal.output();
  terminal.send("exit 5\n");
  EXPECT_EQ(terminal.wait(), 5) << terminal.output();
}

TEST_P(DebugShellOnATerminal, SeesATerminalInside) {
  TerminalRun terminal(*home_, {"job", "debug-shell", "--", "sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty"});
  EXPECT_EQ(terminal.wait(), 0) << terminal.output();
  EXPECT_THAT(terminal.output(), ::testing::HasSubstr("on-a-tty"));
}

INSTANTIATE_TEST_SUITE_P(Users, DebugShellOnATerminal, ::testing::ValuesIn(usersToTest()),
                         [](const auto& info) { return userLabel(info.param); });

}  // namespace
}  // namespace jobtape::testing
