# What the sandbox's pid 1 is told to do: the plan the supervisor built,
# handed to the init program it execs (sandbox/init_plan.h).
#
# pid 1 starts as a clone that shares the caller's memory only until it
# execs jobtape's small init (sandbox/init_image.h), so the caller's address
# space is never copied, whatever its size. Everything pid 1 then needs comes
# in this one message, read from a sealed memfd before any namespace is set
# up: the mount operations, the main process's exec, its rlimits, the
# seccomp programs, the terminals and the descriptors it inherited.
#
# Both ends are the same build of jobtape (the init image is linked into the
# library that writes the message), so the schema has no compatibility
# story beyond that; the reader still checks every size and index, because
# a plan it cannot follow must end in a setup error, never in a crash.

@0x9c51a56f137045f1;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("jobtape::schema");

struct InitPlan {
  sandboxed @0 :Bool;            # false: record only (a pid namespace and its /proc)
  network @1 :Bool;              # the host's network namespace is kept
  controllingTerminal @2 :Int32; # the main process's fd to make its terminal; -1 none
  sandboxTerminals @3 :Bool;     # pid 1 opens the job's terminals (job_terminal.h)
  terminalRows @4 :UInt16;       # their window size
  terminalColumns @5 :UInt16;
  inputOnTerminal @6 :Bool;      # fd 0 is the stdout terminal too
  traceExecs @7 :Bool;           # the main process announces its exec to the tracer
  channel @8 :Int32;             # the channel's fd, as inherited
  unshareFlags @9 :UInt64;       # namespaces pid 1 creates itself (CLONE_NEW*)
  stdio @10 :List(Int32);        # three fds that become 0, 1, 2; -1 keeps the inherited one
  hostname @11 :Text;            # the sandbox's hostname
  mounts @12 :List(MountOp);     # in order; empty when record only
  rlimits @13 :List(Rlimit);     # set by the main process
  exec @14 :Exec;                # what the main process execs
  seccompPolicy @15 :Data;       # struct sock_filter[]: the deny policy; empty when record only
  seccompNotify @16 :Data;       # struct sock_filter[]: the exec-notify filter; empty without tracing
}

struct MountOp {
  kind @0 :UInt8;          # MountPlan::Op::Kind
  source @1 :Text;         # host path (bind; overlay: the lower layer)
  upper @2 :Text;          # overlay: the upper layer's host directory
  work @3 :Text;           # overlay: overlayfs's work area
  destination @4 :Text;    # absolute path inside
  readOnly @5 :Bool;       # remounted read-only
  recipeIndex @6 :Int32;   # for error reports; -1 = the sandbox's own mount
}

struct Rlimit {
  resource @0 :Int32;  # RLIMIT_*
  soft @1 :UInt64;     # rlim_cur
  hard @2 :UInt64;     # rlim_max
}

struct Exec {
  argv @0 :List(Text);        # argv exactly
  environment @1 :List(Text); # NAME=value, exactly
  candidates @2 :List(Text);  # where to look for the program, in order (PATH lookup done)
  workDir @3 :Text;           # empty: stay where pid 1 is
}
