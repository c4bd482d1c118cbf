# The events file: one job's whole story, readable without the database.
#
# Every message in an events file is an `Event`. The file is a zstd stream of
# standard Cap'n Proto stream-framed messages (unpacked), so public tools read
# it:  zstd -dc events.bin.zst | capnp decode recorder/events/events.capnp Event
# The byte layout, framing, versioning and recovery rules are documented at
# the top of recorder/events/event_writer.cc (summary in recorder/events/event_writer.h).
#
# The first event is always `jobStarted`; it sits alone in the first zstd
# frame so readers (job show, debug-shell) can use it while the job runs.
# Times after it are monotonic nanoseconds since the job started
# (`elapsedNs`); the only wall-clock time is `jobStarted.startedAtUnixNs`.
#
# Evolution: ordinals are append-only, fields are never renamed or retyped,
# new union members may appear (old readers skip them), and
# `jobStarted.formatVersion` is bumped only for a change old readers would
# misread.

@0x9eff64e65a2908fd;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("jobtape::schema");

using import "../../sandbox/recipe.capnp".Recipe;

struct Event {
  union {
    jobStarted @0 :JobStarted;        # always first, alone in frame 1
    processExec @1 :ProcessExec;      # a process of the job was spawned or exec'd
    output @2 :Output;                # a chunk of stdout or stderr (at most 1 MiB)
    processExited @3 :ProcessExited;  # a process of the job ended
    jobFinished @4 :JobFinished;      # always last in a complete file
    tracingIncomplete @5 :TracingIncomplete;  # what exec tracing missed; at most one, before jobFinished
  }
}

struct JobStarted {
  magic @0 :Text;               # always "jobtape-events"; tells our files apart
  formatVersion @1 :UInt32;     # 1; bumped for incompatible meaning changes
  jobtapeVersion @2 :Text;      # version of the writer, e.g. "0.1.0"
  jobId @3 :Text;               # ULID of the job (26 chars)
  buildId @4 :Text;             # ULID of the build it belongs to
  recipe @5 :Recipe;            # the full recipe, as run
  recipeHash @6 :Text;          # canonical recipe hash (hex)
  host @7 :Text;                # hostname of the machine that ran it
  startedAtUnixNs @8 :Int64;    # wall-clock start, ns since the Unix epoch
  sandboxed @9 :Bool;           # false when recorded without isolation
  stateDir @10 :Text;           # host dir holding the sandbox's writable state
  kernel @11 :Text;             # uname release of the host
  callerUid @12 :UInt32;        # uid of the process that started the job
  callerGid @13 :UInt32;        # gid of the process that started the job
  terminal @14 :Bool;           # stdout and stderr were pseudo-terminals of the
                                # job's own (`jobtape run --tty`); false in files
                                # written before the field existed
}

struct ProcessExec {
  elapsedNs @0 :UInt64;         # time since job start
  pid @1 :Int32;                # pid as seen inside the job's pid namespace
  ppid @2 :Int32;               # parent pid inside, 0 if unknown
  argv @3 :List(Data);          # raw argv bytes (may be non-UTF-8)
  cwd @4 :Data;                 # working directory at exec, raw bytes
  kind @5 :Kind;                # how the process came to be
  executable @6 :Data;          # path passed to execve, raw bytes

  enum Kind {
    spawned @0;  # the job's main process (the first processExec of a file)
    exec @1;     # an execve/execveat seen by the supervisor
  }
}

# Exec tracing could not record everything: an exec the kernel ran is never
# left out without this saying how many and why. Absent when nothing was missed.
struct TracingIncomplete {
  elapsedNs @0 :UInt64;         # time since job start, when it was counted
  missedExecs @1 :UInt64;       # execs that ran but have no processExec
  missedExits @2 :UInt64;       # recorded execs whose process's end was not followed
  reason @3 :Text;              # why, e.g. "out of descriptors"; several joined by ", "
}

struct Output {
  stream @0 :Stream;            # which stream the bytes came from
  elapsedNs @1 :UInt64;         # monotonic time the chunk was read
  bytes @2 :Data;               # raw bytes, at most 1 MiB per event; a larger
                                # read becomes several events with the same
                                # elapsedNs; may be empty

  enum Stream {
    stdout @0;
    stderr @1;
  }
}

struct ResourceUsage {
  userCpuNs @0 :UInt64;          # ru_utime
  systemCpuNs @1 :UInt64;        # ru_stime
  maxRssBytes @2 :UInt64;        # ru_maxrss (in bytes, not KiB)
  minorFaults @3 :UInt64;        # ru_minflt
  majorFaults @4 :UInt64;        # ru_majflt
  inBlocks @5 :UInt64;           # ru_inblock
  outBlocks @6 :UInt64;          # ru_oublock
  voluntarySwitches @7 :UInt64;  # ru_nvcsw
  involuntarySwitches @8 :UInt64; # ru_nivcsw
}

struct ProcessExited {
  elapsedNs @0 :UInt64;         # time since job start
  pid @1 :Int32;                # pid inside the job's pid namespace
  statusKnown @2 :Bool;         # false when the kernel could not tell
  exitCode @3 :Int32;           # exit status if it exited, else -1
  signal @4 :Int32;             # terminating signal, else 0
  rusage @5 :ResourceUsage;     # when known (main process: whole tree)
}

enum Result {
  succeeded @0;
  failed @1;
  abandoned @2;
}

enum Outcome {
  exited @0;            # ran and exited; exitCode says how
  signaled @1;          # killed by `signal`
  timedOut @2;          # wall-clock limit hit; the tree was killed
  setupFailed @3;       # sandbox setup failed at `setupStep` with `setupErrno`
  commandNotFound @4;   # exec failed with ENOENT (exit 127)
  notExecutable @5;     # exec failed with EACCES/ENOEXEC (exit 126)
  seccompViolation @6;  # killed for `violatingSyscall`
  cancelled @7;         # stopped by the caller (Ctrl-C); `signal` says which
}

struct JobFinished {
  elapsedNs @0 :UInt64;         # wall duration of the job
  result @1 :Result;            # succeeded iff outcome is exited with code 0
  outcome @2 :Outcome;          # how it ended
  exitCode @3 :Int32;           # exit status, or 128+signal when signaled
  signal @4 :Int32;             # signal number, 0 if none
  rusage @5 :ResourceUsage;     # of the whole process tree
  setupStep @6 :Text;           # with setupFailed: which step
  setupErrno @7 :Int32;         # with setupFailed: errno of that step
  violatingSyscall @8 :Text;    # with seccompViolation: syscall name
  message @9 :Text;             # one human line explaining the outcome
}
