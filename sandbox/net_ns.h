// Network namespace: a new one has only `lo`, and it is down. Bringing it up
// gives the job a working 127.0.0.1 of its own; nothing else is reachable.
// Recipes with `network` share the host's namespace and skip this.
#pragma once

namespace jobtape::sandbox {

// Child side, async-signal-safe (a socket and two ioctls). 0 or errno.
int bringUpLoopback() noexcept;

}  // namespace jobtape::sandbox
