#include "sandbox/child_report.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "sandbox/linux_syscalls.h"

namespace jobtape::sandbox {

const char* setupStepName(SetupStep step) {
  switch (step) {
    case SetupStep::none: return "none";
    case SetupStep::stateDir: return "state directory";
    case SetupStep::memoryCgroup: return "memory cgroup";
    case SetupStep::pidsCgroup: return "pids cgroup";
    case SetupStep::clone: return "clone";
    case SetupStep::setgroups: return "setgroups";
    case SetupStep::uidMap: return "uid_map";
    case SetupStep::gidMap: return "gid_map";
    case SetupStep::signalMask: return "signal mask";
    case SetupStep::stdio: return "stdio";
    case SetupStep::closeFds: return "close fds";
    case SetupStep::deathSignal: return "parent death signal";
    case SetupStep::waitForParent: return "wait for parent";
    case SetupStep::namespaces: return "unshare namespaces";
    case SetupStep::hostname: return "hostname";
    case SetupStep::loopback: return "loopback";
    case SetupStep::mountPropagation: return "mount propagation";
    case SetupStep::bindSource: return "bind source";
    case SetupStep::tmpfs: return "tmpfs";
    case SetupStep::procfs: return "proc";
    case SetupStep::devfs: return "dev";
    case SetupStep::mountPoint: return "mount point";
    case SetupStep::attachMount: return "attach mount";
    case SetupStep::readOnly: return "read-only";
    case SetupStep::rootTmpfs: return "root tmpfs";
    case SetupStep::pivotRoot: return "pivot_root";
    case SetupStep::jobTerminal: return "job terminal";
    case SetupStep::dumpable: return "dumpable";
    case SetupStep::forkMain: return "fork";
    case SetupStep::announceMain: return "announce main process";
    case SetupStep::newSession: return "setsid";
    case SetupStep::controllingTerminal: return "controlling terminal";
    case SetupStep::rlimits: return "rlimit";
    case SetupStep::securebits: return "securebits";
    case SetupStep::capabilities: return "capabilities";
    case SetupStep::noNewPrivs: return "no_new_privs";
    case SetupStep::workDir: return "chdir";
    case SetupStep::seccomp: return "seccomp";
    case SetupStep::execListener: return "exec listener";
    case SetupStep::exec: return "execve";
    case SetupStep::homeOverlay: return "home overlay";
    case SetupStep::initImage: return "init program";
    case SetupStep::initExec: return "exec init";
    case SetupStep::initPlan: return "init plan";
  }
  return "unknown";
}

void sendChildMessage(int sock, const ChildMessage& message) noexcept {
  while (::send(sock, &message, sizeof message, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

void sendSetupError(int sock, SetupStep step, int error, int index) noexcept {
  ChildMessage message;
  message.kind = ChildMessage::setupError;
  message.step = step;
  message.error = error;
  message.index = index;
  sendChildMessage(sock, message);
}

int sendChildFd(int sock, const ChildMessage& message, int fd) noexcept {
  struct iovec iov{const_cast<ChildMessage*>(&message), sizeof message};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  std::memset(control, 0, sizeof control);
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

namespace {

constexpr char kGo = 'g';
constexpr char kStart = 's';
constexpr char kAck = 'a';

bool waitForByte(int sock, char expected) noexcept {
  char got = 0;
  for (;;) {
    ssize_t n = ::recv(sock, &got, 1, 0);
    if (n == 1) return got == expected;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

bool sendByte(int sock, char byte) noexcept {
  for (;;) {
    if (::send(sock, &byte, 1, MSG_NOSIGNAL) == 1) return true;
    if (errno != EINTR) return false;
  }
}

}  // namespace

bool waitForGo(int sock) noexcept { return waitForByte(sock, kGo); }
bool waitForStart(int sock) noexcept { return waitForByte(sock, kStart); }
bool sendGo(int sock) noexcept { return sendByte(sock, kGo); }
bool sendStart(int sock) noexcept { return sendByte(sock, kStart); }
bool sendMainAck(int sock) noexcept { return sendByte(sock, kAck); }

bool announceMainProcess(int sock) noexcept {
  ChildMessage m;
  m.kind = ChildMessage::mainStarted;
  // A pidfd of this process, made by itself, names it whatever happens to
  // its pid later: no answer is needed.
  const int self = sys::pidfdOpen(::getpid());
  if (self >= 0) {
    const int error = sendChildFd(sock, m, self);
    ::close(self);
    return error == 0;
  }
  for (;;) {
    if (::send(sock, &m, sizeof m, MSG_NOSIGNAL) >= 0) break;
    if (errno != EINTR) return false;
  }
  return waitForByte(sock, kAck);
}

bool announceMainExec(int sock, int index, const char* cwd, size_t cwdBytes) noexcept {
  ChildMessage m;
  m.kind = ChildMessage::mainExec;
  m.index = index;
  struct iovec iov[2] = {{&m, sizeof m}, {const_cast<char*>(cwd), std::min(cwdBytes, kChildTextBytes)}};
  struct msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

bool passSenderCredentials(int sock) noexcept {
  int on = 1;
  return ::setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0;
}

std::optional<ReceivedMessage> receiveChildMessage(int sock) {
  ReceivedMessage received;
  char text[kChildTextBytes];
  struct iovec iov[2] = {{&received.message, sizeof received.message}, {text, sizeof text}};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
  struct msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  // ECONNRESET says the child closed its end with a byte of ours unread (a
  // pid 1 that failed before "start"); it is reported once, ahead of the
  // records still queued, which the next call reads.
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && (errno == EINTR || errno == ECONNRESET));
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReceivedMessage{};
    throw std::system_error(errno, std::generic_category(), "recvmsg from sandbox");
  }
  if (n == 0) return std::nullopt;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      received.fd.reset(fd);
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
               c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
      struct ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      received.senderPid = cred.pid;
    }
  }
  // A short or truncated packet cannot come from our own child; ignore it.
  // Only mainExec carries text after the record.
  const size_t bytes = static_cast<size_t>(n);
  const bool texted = bytes > sizeof received.message && received.message.kind == ChildMessage::mainExec;
  if (bytes < sizeof received.message || (bytes > sizeof received.message && !texted) ||
      (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    received.message = ChildMessage{};
    received.message.kind = -1;
    return received;
  }
  if (texted) received.text.assign(text, bytes - sizeof received.message);
  return received;
}

}  // namespace jobtape::sandbox
