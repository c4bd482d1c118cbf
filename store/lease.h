// Leases on running jobs and builds. A recorder refreshes its running job's
// (and that job's build's) heartbeat_at every kHeartbeatIntervalMs and
// records its own pid and process start time.
//
// Whether the recorder is gone is only decided by the process when the
// reader shares the recorder's boot and pid namespace (the lease owner): the
// recorder is gone when its pid no longer runs, is a zombie, or now names a
// process with another start time (the pid was reused). While that process
// exists its job and build are never abandoned, however old the heartbeat
// (a recorder stopped by SIGSTOP, or swapped out, comes back). A pid from
// another machine, another boot or another pid namespace (a nested build
// inside a sandbox) means nothing here, and only a heartbeat older than the
// lease timeout counts.
//
// Readers infer abandonment in memory (they never write); writers persist it
// when they can (SqliteStore::reapAbandoned).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace jobtape::store {

inline constexpr int64_t kHeartbeatIntervalMs = 2'000;
inline constexpr int64_t kLeaseTimeoutMs = 30'000;

// The lease timeout in effect: kLeaseTimeoutMs, or $JOBTAPE_LEASE_TIMEOUT_MS
// when that is a positive number (tests shorten it).
int64_t leaseTimeoutFromEnvironment();

// The operating-system side of leases, replaceable in tests.
class ProcessProbe {
 public:
  virtual ~ProcessProbe() = default;
  // Identifies where this process's pids are meaningful: boot id and pid
  // namespace, e.g. "6f1c...:pid:[4026531836]".
  virtual std::string leaseOwner() = 0;
  // Start time of `pid` (field 22 of /proc/PID/stat, clock ticks since
  // boot); 0 when unknown.
  virtual uint64_t startTime(pid_t pid) = 0;
  // True only when `pid` certainly no longer runs the process that started
  // at `startTime` (no such process, a zombie waiting to be reaped, or a
  // process with another start time; startTime 0 skips that comparison).
  // Unknown counts as alive.
  virtual bool isGone(pid_t pid, uint64_t startTime) = 0;
};

// Reads /proc/sys/kernel/random/boot_id, /proc/self/ns/pid, kill(pid, 0)
// and /proc/<pid>/stat.
std::shared_ptr<ProcessProbe> systemProcessProbe();

}  // namespace jobtape::store
