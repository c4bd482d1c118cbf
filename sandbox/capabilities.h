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

}  // namespace jobtape::sandbox
