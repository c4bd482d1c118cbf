#!/usr/bin/env bash
# Instructions executed by one `jobtape run -- true`, counted by callgrind:
# a figure that stays put on a noisy machine, for before/after comparisons.
#
#   bench/callgrind_run_true.sh [PATH-TO-JOBTAPE] [TOP]
#
# PATH-TO-JOBTAPE defaults to ./build/cli/jobtape; TOP (default 15) is how many
# functions to list, by inclusive count. JOBTAPE_CALLGRIND_KEEP=DIR keeps the
# profiles there (for callgrind_annotate --tree=calling, kcachegrind).
#
# What is counted: the jobtape process (the supervisor) from its exec to its
# exit, all of its threads, shared libraries and the dynamic loader included.
# Not counted: the sandbox's processes. The process cloned into the new
# namespaces runs under valgrind until it execs jobtape's init (pid 1, by
# its /proc/self/fd path: valgrind cannot exec an fd) and writes its own
# profile; it is left out here, as are the init and `true` (exec'd, and
# --trace-children=no). The store exists before the
# counted run (created by a first, uncounted run in the same JOBTAPE_HOME), so
# the count is that of a job in an existing store, as in daily use.
#
# Valgrind lacks wrappers for seccomp(2), the mount API, openat2 and the
# pidfd calls; bench/valgrind_seccomp.c (compiled here, preloaded) makes those
# calls natively. Under valgrind clone3 answers ENOSYS, so the sandbox takes
# its clone + pidfd_open path: a few instructions more than natively.
set -euo pipefail

jobtape="$(realpath "${1:-build/cli/jobtape}")"
top="${2:-15}"
command -v valgrind >/dev/null || { echo "callgrind_run_true: valgrind is missing" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/var/tmp}/jobtape-callgrind-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cc -O2 -shared -fPIC -o "$work/valgrind_seccomp.so" "$(dirname "${BASH_SOURCE[0]}")/valgrind_seccomp.c" -ldl \
  || { echo "callgrind_run_true: cannot build the preload (needs cc and valgrind/valgrind.h)" >&2; exit 2; }
export JOBTAPE_HOME="$work/home"
mkdir "$work/project"
cd "$work/project"  # the sandbox binds it: the cloned child writes its profile here too
"$jobtape" run -- true >/dev/null 2>&1

LD_PRELOAD="$work/valgrind_seccomp.so" valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$work/project/callgrind.out.%p" \
  "$jobtape" run -- true >"$work/stdout" 2>"$work/valgrind.log" &
supervisor=$!
status=0
wait "$supervisor" || status=$?
profile="$work/project/callgrind.out.$supervisor"
if ((status != 0)) || [[ ! -s $profile ]]; then
  echo "callgrind_run_true: jobtape run -- true under callgrind failed (exit $status):" >&2
  cat "$work/stdout" "$work/valgrind.log" >&2
  exit 1
fi
if grep -q "unhandled amd64-linux syscall" "$work/valgrind.log"; then
  echo "callgrind_run_true: warning: valgrind answered ENOSYS to a system call the preload does not make natively;" \
    "the job took another path:" >&2
  grep "unhandled amd64-linux syscall" "$work/valgrind.log" | sort -u >&2
fi

[[ -n ${JOBTAPE_CALLGRIND_KEEP:-} ]] && cp "$work"/project/callgrind.out.* "$JOBTAPE_CALLGRIND_KEEP"/
total=$(awk '/^summary:/ { print $2 }' "$profile")
echo "jobtape: $("$jobtape" --version)   valgrind: $(valgrind --version)"
echo "one \`jobtape run -- true\`, the supervisor process (pid $supervisor, all its threads):"
echo "  total Ir: $total"
# The other threads (heartbeat, watcher) wake on timers: their share varies
# by about 1% from run to run; main()'s count varies far less.
echo "  of which under main(): $(callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$profile" 2>/dev/null \
  | awk '$0 ~ /main\.cc:main / { gsub(/,/, "", $1); print $1; exit }') Ir"
# The cloned child writes its profile under its pid in the new namespace: 1.
# The supervisor SIGKILLs it after its report, often before it wrote it all.
for other in "$work"/project/callgrind.out.*; do
  [[ $other == "$profile" ]] && continue
  child=$(awk '/^summary:/ { print $2 }' "$other")
  if [[ -n $child ]]; then child="$child Ir until its exit"; else child="killed before its profile was complete"; fi
  echo "  not counted: the sandbox's cloned child (pid 1): $child"
done
echo "top $top functions by inclusive Ir (argument lists left out; [source file]):"
callgrind_annotate --inclusive=yes --threshold=100 "$profile" 2>/dev/null \
  | awk -v top="$top" '
      /^-+$/ { dashes++; next }
      dashes >= 4 && NF >= 3 && $1 ~ /^[0-9,]+$/ && $3 != "PROGRAM" {
        count = $1; share = $2; $1 = ""; $2 = ""; name = substr($0, 3)
        sub(/ \[[^]]*\]$/, "", name)                     # [object file]
        gsub(/\(below main\)/, "<below main>", name)
        gsub(/\(anonymous namespace\)::/, "", name)
        file = ""
        if (match(name, /^[^:]*:/)) { file = substr(name, 1, RLENGTH - 1); name = substr(name, RLENGTH + 1) }
        sub(/.*\//, "", file)
        while (gsub(/\([^()]*\)/, "", name)) {}          # argument lists
        printf "  %13s %9s  %s  [%s]\n", count, share, name, file
        if (++n == top) exit
      }'
