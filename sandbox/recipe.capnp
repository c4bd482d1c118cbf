# The process recipe: everything needed to run one job again, exactly.
#
# A recipe is written by a build tool (through the library), by `jobtape run`
# from its command line, or by a person as a JSON file (Cap'n Proto's JSON
# form of this struct: field names as below, camelCase). The same struct is
# embedded in the first event of every events file and its canonical hash
# (see recipe.h) is the job's recipe hash, so one schema serves the file, the
# events and the store.
#
# Evolution: ordinals are append-only; a field is never renamed or retyped.
# Defaults are chosen so that an empty field means "the usual": 0 limits are
# "no limit", an empty hostname is "jobtape".

@0xc2c327e406ea7de3;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("jobtape::schema");

struct EnvVar {
  name @0 :Text;   # variable name; no '=' and no NUL
  value @1 :Text;  # value as given
}

struct Mount {
  kind @0 :Kind;         # what is mounted at `destination`
  source @1 :Text;       # absolute host path (bind kinds); unused for tmpfs
  destination @2 :Text;  # absolute path inside; empty means "same as source"

  enum Kind {
    bind @0;    # read-write bind of a host path
    roBind @1;  # read-only bind of a host path
    tmpfs @2;   # fresh private tmpfs (kept for debug-shell when the job fails)
    homeOverlay @3;  # the host's directory `source` at `destination`, writable through an overlay whose
                     # upper layer the recorder keeps per project in the store (the host's copy is never
                     # written); where that layer lies is not part of the recipe
  }
}

struct Limits {
  timeoutMs @0 :UInt64;       # wall-clock limit; 0 = none
  memoryBytes @1 :UInt64;     # cgroup memory.max, else RLIMIT_AS; 0 = none
  maxOpenFiles @2 :UInt64;    # RLIMIT_NOFILE; 0 = inherited
  maxProcesses @3 :UInt64;    # RLIMIT_NPROC; 0 = inherited
  cpuSeconds @4 :UInt64;      # RLIMIT_CPU; 0 = none
  maxFileBytes @5 :UInt64;    # RLIMIT_FSIZE; 0 = none
  killGraceMs @6 :UInt64;     # SIGTERM -> SIGKILL delay on timeout/cancel; 0 = 2000
}

struct Recipe {
  command @0 :Text;            # program to exec; a bare name is looked up in PATH inside
  args @1 :List(Text);         # argv[1..]; argv[0] is `command`
  env @2 :List(EnvVar);        # the complete environment of the process
  workDir @3 :Text;            # absolute working directory inside the sandbox
  mounts @4 :List(Mount);      # applied in order on top of an empty root
  network @5 :Bool;            # true: share the host network; false: own netns with lo only
  hostname @6 :Text;           # uts hostname; empty = "jobtape"
  limits @7 :Limits;           # resource limits
  uid @8 :Int64 = -1;          # uid inside; -1 = the caller's uid
  gid @9 :Int64 = -1;          # gid inside; -1 = the caller's gid
  name @10 :Text;              # short human name (for listings and -j prefixes)
  meta @11 :List(EnvVar);      # free-form metadata from the build tool; part of the hash
  sandboxed @12 :Bool = true;  # false: record only, run directly on the host
  secretEnv @13 :List(Text);   # names in `env` whose values are secrets, besides those whose
                               # names say so (*TOKEN*, *SECRET*, ...; see recorder/secret_env.h):
                               # passed to the job, recorded as "***", masked in recorded output
}
