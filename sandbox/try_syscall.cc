// try_syscall: tries system calls with harmless arguments and prints, for
// each, one line "NAME ERRNO" (0 when the call succeeded). Used by the
// sandbox's escape tests, inside and outside the sandbox.
//
//   try_syscall NAME...        the probes of sandbox/syscall_probes.h
//   try_syscall all            every probe that does not kill the process
//   try_syscall ptrace-attach=PID
//                              PTRACE_ATTACH to PID (a sibling), detached again
//   try_syscall list           the probe names and the policy's answers
//
// The line is printed and flushed before a probe that may kill the process
// (int80, x32) so the caller sees which call it died in.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <string_view>

#include "sandbox/syscall_probes.h"

namespace {

using jobtape::sandbox::probes::findProbe;
using jobtape::sandbox::probes::kProbes;
using jobtape::sandbox::probes::Probe;

int ptraceAttach(const char* pidText) {
  char* end = nullptr;
  long pid = strtol(pidText, &end, 10);
  if (end == pidText || *end != '\0' || pid <= 0) return EINVAL;
  if (ptrace(PTRACE_ATTACH, static_cast<pid_t>(pid), nullptr, nullptr) != 0) return errno;
  int status = 0;
  waitpid(static_cast<pid_t>(pid), &status, __WALL);
  ptrace(PTRACE_DETACH, static_cast<pid_t>(pid), nullptr, nullptr);
  return 0;
}

void run(const char* name, int (*probe)()) {
  printf("%s ", name);
  fflush(stdout);
  printf("%d\n", probe());
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: try_syscall NAME... | all | list | ptrace-attach=PID\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "all") {
      for (const Probe& probe : kProbes) {
        if (probe.filtered >= 0) run(probe.name, probe.run);
      }
    } else if (arg == "list") {
      for (const Probe& probe : kProbes) printf("%s %d\n", probe.name, probe.filtered);
    } else if (arg.starts_with("ptrace-attach=")) {
      printf("ptrace-attach %d\n", ptraceAttach(argv[i] + strlen("ptrace-attach=")));
      fflush(stdout);
    } else if (const Probe* probe = findProbe(arg)) {
      run(probe->name, probe->run);
    } else {
      fprintf(stderr, "try_syscall: unknown probe \"%s\" (try_syscall list shows them)\n", argv[i]);
      return 2;
    }
  }
  return 0;
}
