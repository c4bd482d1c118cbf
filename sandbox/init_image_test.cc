#include "sandbox/init_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace jobtape::sandbox {
namespace {

TEST(InitImage, IsASealedExecutableMemfdMadeOnce) {
  int fd = initImageFd();
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_EQ(initImageFd(), fd);
  EXPECT_EQ(::fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  const int seals = ::fcntl(fd, F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
            F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  EXPECT_LT(::pwrite(fd, "x", 1, 0), 0);
  EXPECT_EQ(errno, EPERM);
  char magic[4] = {};
  ASSERT_EQ(::pread(fd, magic, sizeof magic, 0), 4);
  EXPECT_EQ(std::string(magic, 4), "\x7f" "ELF");
}

// Started by hand, it says what it is and does nothing.
TEST(InitImage, RunAnyOtherWayItRefuses) {
  int fd = initImageFd();
  ASSERT_GE(fd, 0);
  int err[2];
  ASSERT_EQ(::pipe(err), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(err[1], 2);
    char* const argv[] = {const_cast<char*>("jobtape-sandbox-init"), nullptr};
    char* const envp[] = {nullptr};
    ::execveat(fd, "", argv, envp, AT_EMPTY_PATH);
    ::_exit(99);
  }
  ::close(err[1]);
  char text[256] = {};
  ssize_t n = ::read(err[0], text, sizeof text - 1);
  ::close(err[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 125);
  EXPECT_GT(n, 0);
  EXPECT_NE(std::string(text).find("started only by jobtape"), std::string::npos) << text;
}

// A program that closed every fd and reused the number gets a new memfd,
// never an exec of what the number names now.
TEST(InitImage, AReusedNumberIsNotTakenForTheImage) {
  int fd = initImageFd();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::close(fd), 0);
  int other = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_EQ(other, fd) << "the lowest free number";
  int again = initImageFd();
  ASSERT_GE(again, 0);
  EXPECT_NE(again, other);
  struct stat st;
  ASSERT_EQ(::fstat(other, &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "/dev/null is left alone";
  ::close(other);
}

}  // namespace
}  // namespace jobtape::sandbox
