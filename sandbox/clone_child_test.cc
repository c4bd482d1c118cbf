#include "sandbox/clone_child.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <gtest/gtest.h>

#include "sandbox/child_report.h"
#include "sandbox/run_outcome.h"

namespace jobtape::sandbox {
namespace {

// pid 1 that cannot exec the init says so on the channel and exits 125,
// whoever runs the test (as nobody too: the clone makes a user namespace).
TEST(CloneInit, AnInitThatCannotBeExecdIsASetupErrorOnTheChannel) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]), theirs(pair[1]);
  ASSERT_TRUE(passSenderCredentials(ours.get()));
  UniqueFd notAProgram(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(notAProgram);
  char name[] = "jobtape-sandbox-init";
  char* const argv[] = {name, nullptr};
  const int keep[] = {theirs.get()};
  ClonedChild child = cloneInit(CLONE_NEWUSER | CLONE_NEWPID, -1,
                                {.image = notAProgram.get(), .imagePath = nullptr, .argv = argv, .keep = keep,
                                 .keepCount = 1, .channel = theirs.get()});
  ASSERT_GT(child.pid, 0) << std::strerror(errno);
  EXPECT_TRUE(child.pidfd);
  theirs.reset();

  pollfd ready{ours.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&ready, 1, 10000), 1);
  std::optional<ReceivedMessage> received = receiveChildMessage(ours.get());
  ASSERT_TRUE(received);
  EXPECT_EQ(received->message.kind, ChildMessage::setupError);
  EXPECT_EQ(received->message.step, SetupStep::initExec);
  EXPECT_EQ(received->message.error, EACCES);
  EXPECT_EQ(received->senderPid, child.pid);
  int status = 0;
  ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kExitSetupFailed);
  // The caller's own copy of the channel end was never made inheritable.
  EXPECT_EQ(::fcntl(ours.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

}  // namespace
}  // namespace jobtape::sandbox
