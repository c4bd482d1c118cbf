// Leases on running jobs. A recorder refreshes its running job's
// heartbeat_at every kHeartbeatIntervalMs; a reader that finds the recorder
// gone, or the heartbeat older than kLeaseTimeoutMs, marks the job abandoned.
//
// "Gone" is only decided by pid when the reader shares the recorder's boot
// and pid namespace (the lease owner): a pid from another machine, another
// boot or another pid namespace (a nested build inside a sandbox) means
// nothing here, and only the heartbeat counts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace jobtape::store {

inline constexpr int64_t kHeartbeatIntervalMs = 2'000;
inline constexpr int64_t kLeaseTimeoutMs = 30'000;

// The operating-system side of leases, replaceable in tests.
class ProcessProbe {
 public:
  virtual ~ProcessProbe() = default;
  // Identifies where this process's pids are meaningful: boot id and pid
  // namespace, e.g. "6f1c...:pid:[4026531836]".
  virtual std::string leaseOwner() = 0;
  // True only when `pid` certainly no longer runs (no such process, or a
  // zombie waiting to be reaped). Unknown counts as alive.
  virtual bool isGone(pid_t pid) = 0;
};

// Reads /proc/sys/kernel/random/boot_id, /proc/self/ns/pid, kill(pid, 0)
// and /proc/<pid>/stat.
std::shared_ptr<ProcessProbe> systemProcessProbe();

}  // namespace jobtape::store
