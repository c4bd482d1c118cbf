// Tries to outlive its job: record_only_probe MARKER [wait]
//
// Clears its own death signal, then leaves a daemon behind the way a
// service does (fork, setsid, fork again; the middle process exits), the
// daemon clearing its death signal too and sleeping with MARKER in its
// argv. Prints "ready" once the daemon runs; with "wait" the main process
// then sleeps (for a test that kills jobtape), else it exits 0.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const bool wait = argc > 2 && std::strcmp(argv[2], "wait") == 0;
  (void)prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  int ready[2];
  if (pipe(ready) != 0) return 1;
  pid_t middle = fork();
  if (middle == 0) {
    setsid();
    if (fork() == 0) {
      (void)prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
      close(ready[0]);
      (void)write(ready[1], "x", 1);
      close(ready[1]);
      char* sleepArgv[] = {const_cast<char*>("sleep"), argv[1], nullptr};
      execvp("sleep", sleepArgv);
      _exit(127);
    }
    _exit(0);
  }
  close(ready[1]);
  waitpid(middle, nullptr, 0);
  char byte;
  if (read(ready[0], &byte, 1) != 1) return 1;
  std::printf("ready\n");
  std::fflush(stdout);
  if (wait) pause();
  return 0;
}
