// Privileges of the job: none. In its user namespace the sandbox starts with
// every capability (it created the namespace); the main process gives them all
// up before exec: securebits so that uid 0 inside never regains any on exec
// (NOROOT) and nothing can lift that (locked), the bounding set emptied,
// ambient cleared, permitted/effective/inheritable zeroed, no_new_privs set.
#pragma once

#include "sandbox/child_report.h"

namespace jobtape::sandbox {

// Child side, async-signal-safe.
StageError dropAllPrivileges() noexcept;

// pid 1 execs the init program before the supervisor has written its id maps
// (the supervisor's thread waits for that exec), and an exec by a uid that
// is not root in its namespace keeps no capability: every permitted one is
// made inheritable and ambient, so that the init keeps those the clone gave.
// The caller's memory is borrowed here (a vfork-like clone): system calls
// only. Errors are errno values.
int keepCapabilitiesAcrossExec() noexcept;

// The init's first step: ambient and inheritable sets emptied again, so that
// no later exec (the main process's) is given a capability that way.
StageError forgetExecCapabilities() noexcept;

}  // namespace jobtape::sandbox
