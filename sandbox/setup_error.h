// What a user needs to fix a sandbox that could not be built: the part of
// RunResult::message after "sandbox setup failed at STEP: ERRNO TEXT" that
// names the place (the recipe mount, the work dir) and, where the errno alone
// would puzzle, why the kernel said it. One line; the paths are the recipe's
// own (raw: whoever prints the message escapes it).
#pragma once

#include <string>

#include "sandbox/child_report.h"
#include "sandbox/recipe.h"

namespace jobtape::sandbox {

// " (mounts[4]: tmpfs on /newdir: ...)", " (work dir /src)", or "".
std::string setupErrorDetail(const Recipe& recipe, SetupStep step, int error, int mountIndex);

}  // namespace jobtape::sandbox
