// The sandbox's pid 1 after its exec: the init program (init_main.cc) runs
// this with the plan it read (init_plan.h).
//
// In a sandbox: reset signal dispositions, die with the parent, new session,
// stdio and nothing else open, wait for the id maps (an end-of-file instead
// of "go" means the supervisor died before the death signal was armed),
// unshare the mount, net (unless the recipe has network), ipc, uts and cgroup
// namespaces, hostname, loopback, mount tree and pivot_root; then confine
// itself (confineInit: every privilege dropped, not dumpable, the seccomp
// filters loaded and the exec listener handed up), wait for "start", spawn
// the main process and become the reaping, forwarding init (pid_init.h).
//
// Record only: a pid namespace and its /proc (runner.cc tells why).
//
// This is a process of its own (its memory is the small init program's, not
// the caller's), single-threaded, but the main process borrows that memory
// until its execve: everything on its side stays async-signal-safe.
#pragma once

#include "sandbox/child_plan.h"

namespace jobtape::sandbox {

[[noreturn]] void runInit(const ChildPlan& plan);

// A failure before the plan is known: reported on `channel`, then exit.
[[noreturn]] void initFailed(int channel, SetupStep step, int error);

}  // namespace jobtape::sandbox
