// The plan of the sandbox's pid 1 across its exec (schema: init_plan.capnp).
//
// The supervisor writes the ChildPlan into a memfd before the clone; pid 1
// inherits it, execs the init program (init_image.h), which reads it back
// into plans of its own and closes it before anything of the job runs. The
// message never leaves the two processes of one run, but the reader checks
// it all the same: a plan it cannot follow is a setup error.
#pragma once

#include <string>

#include "sandbox/child_plan.h"
#include "sandbox/fd_util.h"

namespace jobtape::sandbox {

// Supervisor side: the plan in a close-on-exec memfd, at offset 0. Throws
// std::system_error when no memfd can be made or written.
UniqueFd writeInitPlan(const ChildPlan& plan);

// Init side: decodes the whole of `fd` into `out`. False, with `*why`, when
// it is not a plan this build wrote.
bool readInitPlan(int fd, OwnedChildPlan& out, std::string* why) noexcept;

}  // namespace jobtape::sandbox
