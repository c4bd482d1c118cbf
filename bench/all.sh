#!/usr/bin/env bash
# Every figure of jobtape's performance goals in one run, each next to its
# goal and marked met or NOT met; as root, once as root and again as
# `nobody` (the unprivileged path).
#
#   bench/all.sh [--quick] [--build DIR] [--lz4 DIR] [--log DIR]
#                [--build-pairs N] [--capture-mib N]
#
#   --quick    smaller sizes (about 3 minutes on a quiet 2-cpu machine): fewer
#              rounds, one build pair of googletest's gtest target and of
#              lz4's liblz4.a, 64 MiB capture. The full mode: 3 pairs of the
#              whole googletest and lz4 builds, 1 GiB capture.
#   --build-pairs N, --capture-mib N   override those sizes
#   --build    build tree configured with -Dbenchmarks=enabled (default ./build;
#              cli/jobtape and bench/run_true are built in it first)
#   --lz4      an lz4 source tree (default $JOBTAPE_BENCH_LZ4, else
#              `apt-get source lz4` is tried; without one the lz4 line says n/a)
#   --log DIR  where the raw output of every step goes (default: a temporary
#              directory, named under the table)
#
# Scratch directories (the projects of the jobs) go to $TMPDIR, else
# /var/tmp: a project under /tmp would put the mount point of its bind into
# every job's private /tmp, which a real checkout does not.
#
# Nothing is removed until the end (build trees are moved aside, run_true
# keeps its stores): on ext4 without a journal the kernel's inode allocator
# steps over every inode freed in the last minutes of a block group, so the
# thousands of files a step removes would tax every file the next figure's
# jobs create (their job directories, events files, the home overlay's work
# files), which bwrap, creating none on disk, never pays. Measured on such a
# machine: creating the home overlay took 0.89 ms right after earlier runs
# removed their stores, 0.25 ms in a block group with nothing freed. Two runs
# back to back still see the first one's removal.
#
# Every figure is a ratio (or a difference) of contenders measured side by
# side: they take turns in interleaved rounds and the medians count, so a
# change in machine load hits both alike. The last column is the 1-minute
# load average when the figure was taken; "quiet machine" figures mean little
# when it is high. The make -j2 load of the loaded figure is started here
# (googletest's sources compiled in a loop, in its own session) and stopped.
# The real builds compile googletest (/usr/src/googletest, cmake + make -j2)
# and lz4 (make -j2) without ccache, in `jobtape run` and in bwrap with the
# same view (host / read-only, the build dir read-write, private /tmp).
set -euo pipefail
shopt -s inherit_errexit

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
quick=0
lz4="${JOBTAPE_BENCH_LZ4:-}"
logdir=""
inner=0  # set when this script runs itself as nobody
pairs_arg="" mib_arg=""
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --build) build="$2"; shift ;;
    --lz4) lz4="$2"; shift ;;
    --log) logdir="$2"; shift ;;
    --build-pairs) pairs_arg="$2"; shift ;;
    --capture-mib) mib_arg="$2"; shift ;;
    --inner) inner=1 ;;
    *) echo "bench/all.sh: error: unknown argument '$1' (see the usage at the top of the script)" >&2; exit 2 ;;
  esac
  shift
done
build="$(realpath "$build")"
jobtape="$build/cli/jobtape"
# Real compilers, never a cache: the builds are the figure.
unset CC CXX CCACHE_DIR
export CCACHE_DISABLE=1

if ((quick)); then
  true_rounds=40 load_rounds=20 batch_rounds=3 build_pairs=1 gtest_target=gtest lz4_target="-C lib liblz4.a" lz4_label=liblz4.a
  capture_mib=64 capture_rounds=3
else
  true_rounds=200 load_rounds=60 batch_rounds=15 build_pairs=3 gtest_target=all lz4_target=all lz4_label=all
  capture_mib=1024 capture_rounds=3
fi
build_pairs=${pairs_arg:-$build_pairs}
capture_mib=${mib_arg:-$capture_mib}

if ((!inner)); then
  ninja -C "$build" cli/jobtape bench/run_true >/dev/null
  if [[ -z $lz4 ]]; then
    # A Debian source package, when deb-src is configured and reachable.
    lz4_tmp="$(mktemp -d "${TMPDIR:-/var/tmp}/jobtape-bench-lz4-XXXXXX")"
    if (cd "$lz4_tmp" && apt-get source -qq lz4 >/dev/null 2>&1); then
      lz4="$(find "$lz4_tmp" -mindepth 1 -maxdepth 1 -type d -name 'lz4-*' | head -1)"
      chmod -R a+rX "$lz4_tmp"
    fi
  fi
  [[ -z $logdir ]] && logdir="$(mktemp -d "${TMPDIR:-/var/tmp}/jobtape-bench-all-XXXXXX")"
  mkdir -p "$logdir"
fi
[[ -n $lz4 ]] && lz4="$(realpath "$lz4")"
user="$(id -un)"
log="$logdir/$user.log"
: >"$log"
work="$(mktemp -d "${TMPDIR:-/var/tmp}/jobtape-bench-work-XXXXXX")"
load_pid=""
stop_load() {
  if [[ -n $load_pid ]]; then
    kill -- "-$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
    load_pid=""
  fi
}
trap 'stop_load; rm -rf "$work" ${lz4_tmp:+"$lz4_tmp"}' EXIT

loadavg() { cut -d' ' -f1 /proc/loadavg; }
now_ns() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
# row FIGURE MEASURED GOAL: one line of the table (MEASURED "n/a" when it
# could not be taken), into $work/table.
row() {
  local met="n/a"
  [[ $2 != n/a ]] && met=$(awk -v m="$2" -v g="$3" 'BEGIN { print (m <= g) ? "met" : "NOT met" }')
  printf '%-58s %9s %7s  %-7s  %s\n' "$1" "$2" "<= $3" "$met" "$(loadavg)" >>"$work/table"
}
# field FILE PATTERN N: the Nth field of the first line of FILE matching PATTERN.
field() { awk -v n="$3" "/$2/ { sub(/x\$/, \"\", \$n); print \$n; exit }" "$1"; }

# --- `true`: runner, recorder, jobtape run, bwrap (bench/run_true) ------------
runtrue() {  # runtrue OUT CONTENDERS ROUNDS
  (cd "$work" && TMPDIR="$work" JOBTAPE_BENCH_KEEP_SCRATCH=1 JOBTAPE_BENCH_JOBTAPE="$jobtape" JOBTAPE_BENCH_CONTENDERS="$2" \
    "$here/bench/runner_vs_bwrap.sh" "$build" "$3") >"$1" 2>&1
  cat "$1" >>"$log"
}
runtrue "$work/true.txt" runner,bwrap,bwrap-ns,recorder,recorder-min,jobtape "$true_rounds"
row "recording cost per job in an open Recorder (ms)" "$(field "$work/true.txt" "recording adds" 8)" 0.3
# The row above runs `jobtape run`'s default recipe (home overlay, project,
# /tmp and /run from the state tree) against the runner's bare one; this one
# runs the runner's recipe on both sides: the recording alone.
row "  the same, runner's recipe on both sides (ms)" "$(field "$work/true.txt" "^recorder-min \\/ runner" 11)" 0.3
row "Build::run of true in a Recorder / bwrap true" "$(field "$work/true.txt" "recording adds" 16)" 0.7
row "jobtape run -- true / bwrap true (quiet machine)" "$(field "$work/true.txt" "^jobtape \\/ bwrap" 5)" 1.0

# The load: another session compiling googletest with make -j2, in a loop.
mkdir "$work/load"
gt=/usr/src/googletest
printf '%s\n' "all: gtest.o gmock.o" \
  "gtest.o: ; g++ -O2 -I$gt/googletest/include -I$gt/googletest -c $gt/googletest/src/gtest-all.cc -o \$@" \
  "gmock.o: ; g++ -O2 -I$gt/googlemock/include -I$gt/googlemock -I$gt/googletest/include -c $gt/googlemock/src/gmock-all.cc -o \$@" \
  >"$work/load/Makefile"
setsid bash -c 'cd "$1" && while :; do rm -f ./*.o; make -s -j2 >/dev/null 2>&1; done' load "$work/load" &
load_pid=$!
sleep 5  # both compilers running before the first round
runtrue "$work/loaded.txt" bwrap,jobtape "$load_rounds"
row "jobtape run -- true / bwrap true, make -j2 load" "$(field "$work/loaded.txt" "^jobtape \\/ bwrap" 5)" 1.2
stop_load

# The same Build::run in a program that holds 1 GiB of its own (an embedding
# build tool's heap): the sandbox's pid 1 starts as a fork of that program.
JOBTAPE_BENCH_BALLAST_MIB=1024 runtrue "$work/embedder.txt" runner,recorder,bwrap "$load_rounds"
row "Build::run of true / bwrap true, in a 1 GiB embedder" "$(field "$work/embedder.txt" "recording adds" 16)" 0.7

runtrue "$work/batch.txt" recorder-4x64,bwrap-4x64 "$batch_rounds"
row "64 true: Build::run x4 threads / bwrap 4 at a time" "$(field "$work/batch.txt" "^recorder-4x64 \\/" 5)" 0.7

# --- real builds ----------------------------------------------------------------
# timed_build DIR COMMAND: the wall time (ns) of COMMAND run by `jobtape run` or
# bwrap ($sandbox) in DIR, the project and work dir.
timed_build() {
  local dir="$1" cmd="$2" start
  start=$(now_ns)
  if [[ $sandbox == jobtape ]]; then
    (cd "$dir" && "$jobtape" run -- sh -c "$cmd") >>"$log" 2>&1
  else
    bwrap --unshare-all --ro-bind / / --tmpfs /tmp --bind "$dir" "$dir" --proc /proc --dev /dev --chdir "$dir" \
      sh -c "$cmd" >>"$log" 2>&1
  fi || { echo "bench/all.sh: the build in $sandbox failed (see $log)" >&2; exit 1; }
  echo $(($(now_ns) - start))
}
# build_pairs NAME PREPARE COMMAND: jobtape run / bwrap of COMMAND, in
# $build_pairs interleaved pairs (the first side alternates); PREPARE makes a
# fresh build dir before each run, outside the time.
real_build() {
  local name="$1" prepare="$2" cmd="$3" t_jt=() t_bw=() i side
  for ((i = 0; i < build_pairs; i++)); do
    for side in $( ((i % 2)) && echo "bwrap jobtape" || echo "jobtape bwrap"); do
      if [[ -e $work/$name ]]; then mv "$work/$name" "$(mktemp -d "$work/used-$name-XXXXXX")/"; fi
      mkdir "$work/$name" && (cd "$work/$name" && eval "$prepare")
      sandbox=$side
      if [[ $side == jobtape ]]; then t_jt+=("$(timed_build "$work/$name" "$cmd")"); else t_bw+=("$(timed_build "$work/$name" "$cmd")"); fi
    done
  done
  echo "$name: jobtape run ${t_jt[*]} ns; bwrap ${t_bw[*]} ns" >>"$log"
  awk -v a="$(median "${t_jt[@]}")" -v b="$(median "${t_bw[@]}")" 'BEGIN { printf "%.3f", a / b }'
}
export JOBTAPE_HOME="$work/home"
# The store exists before the first figure. Run from a project of its own:
# the cwd (as nobody, the directory $work lies in) would hold the store,
# which jobtape refuses to let a job write.
mkdir "$work/warm-up"
(cd "$work/warm-up" && "$jobtape" run -- true) >>"$log" 2>&1 ||
  { echo "bench/all.sh: jobtape run -- true failed (see $log)" >&2; exit 1; }
ratio=$(real_build gtest : "cmake -S $gt -B . >/dev/null && make -j2 $gtest_target >/dev/null")
row "googletest build ($gtest_target) jobtape run / bwrap" "$ratio" 1.03
if [[ -n $lz4 ]]; then
  ratio=$(real_build lz4 "cp -a '$lz4'/. ." "make -j2 $lz4_target >/dev/null")
  row "lz4 build ($lz4_label) jobtape run / bwrap" "$ratio" 1.03
else
  row "lz4 build: no source (--lz4 DIR)" n/a 1.03
fi
unset JOBTAPE_HOME

# --- capture (bench/run_vs_bwrap.sh) ------------------------------------------------
TMPDIR="$work" "$here/bench/run_vs_bwrap.sh" "$jobtape" 0 "$capture_mib" "$capture_rounds" >"$work/capture.txt" 2>&1
cat "$work/capture.txt" >>"$log"
row "$capture_mib MiB capture / bwrap cat | zstd -3 (wall)" "$(field "$work/capture.txt" "ratio jobtape\\/bwrap\\+zstd" 3)" 1.0
row "events size / zstd -3 size" "$(field "$work/capture.txt" "size events\\/zstd" 4)" 1.05

print_table() {
  printf '%-58s %9s %7s  %-7s  %s\n' "figure (as $user, $(nproc) cpus, $( ((quick)) && echo quick || echo full))" \
    measured goal met load1
  cat "$work/table"
}
if ((inner)); then
  print_table
  exit 0
fi
tables="$(print_table)"
if [[ $(id -u) -eq 0 ]]; then
  # Again as nobody, in a directory of its own (also its HOME and TMPDIR).
  nobody_dir="$(mktemp -d "${TMPDIR:-/var/tmp}/jobtape-bench-nobody-XXXXXX")"
  chown nobody "$nobody_dir" "$logdir"
  args=(--inner --build "$build" --log "$logdir" --build-pairs "$build_pairs" --capture-mib "$capture_mib")
  ((quick)) && args+=(--quick)
  [[ -n $lz4 ]] && args+=(--lz4 "$lz4")
  tables+=$'\n'"$(cd "$nobody_dir" && setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all \
    env HOME="$nobody_dir" TMPDIR="$nobody_dir" "$here/bench/all.sh" "${args[@]}")" || status=$?
  rm -rf "$nobody_dir"
  [[ ${status:-0} -eq 0 ]] || { echo "bench/all.sh: the run as nobody failed (see $logdir/nobody.log)" >&2; exit 1; }
fi
echo "$tables"
echo "raw output of every step: $logdir"
