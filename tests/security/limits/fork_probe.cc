// A fork bomb on a leash: fork_probe N forks N children that wait, counts
// the forks the kernel refused, prints "forked A refused B", then ends its
// children and exits 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  const int wanted = argc > 1 ? std::atoi(argv[1]) : 100;
  std::vector<pid_t> children;
  int refused = 0;
  for (int i = 0; i < wanted; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      pause();
      _exit(0);
    }
    if (pid > 0) {
      children.push_back(pid);
    } else if (errno == EAGAIN) {
      ++refused;
    } else {
      std::perror("fork");
      return 1;
    }
  }
  std::printf("forked %zu refused %d\n", children.size(), refused);
  std::fflush(stdout);
  for (pid_t pid : children) kill(pid, SIGKILL);
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
  return 0;
}
