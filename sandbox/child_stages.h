// Small stages of the child side that are not a kernel concern of their own.
// All async-signal-safe: the child of a multithreaded program may only make
// system calls (no malloc, no locks, no exceptions).
#pragma once

#include <sys/types.h>

#include "sandbox/child_report.h"

namespace jobtape::sandbox {

// Every disposition back to SIG_DFL (CLONE_CLEAR_SIGHAND leaves SIG_IGN alone,
// and an ignored SIGPIPE would survive exec into the job).
StageError resetSignalDispositions() noexcept;
StageError unblockAllSignals() noexcept;

// fds 0, 1, 2 from `stdio` (-1 keeps the caller's), then every other fd
// closed except `*channel`, which may be renumbered.
StageError arrangeStdio(const int stdio[3], int* channel) noexcept;

// PR_SET_PDEATHSIG(SIGKILL); then, because the parent may have died before
// the prctl, check it is still `expectedParent` (0: not checkable here, the
// caller closes the race another way).
StageError dieWithParent(pid_t expectedParent) noexcept;

// setsid(); then fd `controllingTerminal` (a pty slave; -1: none) becomes
// the new session's controlling terminal.
StageError newSession(int controllingTerminal) noexcept;

StageError setHostname(const char* name) noexcept;

}  // namespace jobtape::sandbox
