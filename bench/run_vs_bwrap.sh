#!/usr/bin/env bash
# Whole-process comparison of `jobtape run` against bubblewrap, side by side.
#
#   1. start-up: `jobtape run -- true` (sandbox + events file + store rows)
#      vs `bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true`.
#      Goal: jobtape <= 1.0x bwrap's wall time.
#   2. throughput: `jobtape run -- cat FILE` (FILE: compiler-like output)
#      vs `bwrap ... cat FILE | zstd -3 -q > f`. Goal: <= 1.0x wall time.
#
# Usage: bench/run_vs_bwrap.sh PATH-TO-JOBTAPE [RUNS] [FILE-MIB] [ROUNDS]
#   RUNS      start-up repetitions (default 50; 0 skips the start-up part)
#   FILE-MIB  size of the output file in MiB (default 1024)
#   ROUNDS    throughput rounds (default 3)
# Run on an idle machine. A start-up figure is the best of 3 rounds; the
# throughput contenders take turns in each round and the median counts.
set -euo pipefail
jobtape="$(realpath "${1:?usage: bench/run_vs_bwrap.sh PATH-TO-JOBTAPE [RUNS] [FILE-MIB]}")"
runs="${2:-50}"
mib="${3:-1024}"
rounds="${4:-3}"
work="$(mktemp -d "${TMPDIR:-/var/tmp}/jobtape-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export JOBTAPE_HOME="$work/home"
# The job's /tmp is private: the file lives in the project dir (the cwd),
# which the default sandbox binds at the same path; the store lies outside
# it (a job may write its project).
mkdir "$work/project"
cd "$work/project"
bwrap_args=(--unshare-all --ro-bind / / --proc /proc --dev /dev)

now_ns() { date +%s%N; }
# best_of ROUNDS COMMAND...: the fastest wall time (ns) of ROUNDS runs of
# COMMAND, its stdout discarded (the figure is printed on stdout).
best_of() {
  local rounds="$1" best="" start elapsed
  shift
  for ((r = 0; r < rounds; r++)); do
    start=$(now_ns)
    "$@" >/dev/null
    elapsed=$(($(now_ns) - start))
    if [[ -z "$best" || $elapsed -lt $best ]]; then best=$elapsed; fi
  done
  echo "$best"
}
# median N...: the middle value (the lower of the two middle ones).
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
repeat() { local n="$1"; shift; for ((i = 0; i < n; i++)); do "$@"; done; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v ns="$1" -v n="${2:-1}" 'BEGIN { printf "%.2f", ns / n / 1e6 }'; }

echo "jobtape: $("$jobtape" --version)   bwrap: $(bwrap --version)   kernel: $(uname -r)   cpus: $(nproc)"

# --- 1. start-up --------------------------------------------------------------
"$jobtape" run -- true >/dev/null  # warm the store (creation, migrations) out of the figures
if ((runs > 0)); then
bw=$(best_of 3 repeat "$runs" bwrap "${bwrap_args[@]}" true)
jt=$(best_of 3 repeat "$runs" "$jobtape" run -- true)
echo
echo "start-up, $runs runs each (best of 3 rounds), per run:"
echo "  bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true   $(ms "$bw" "$runs") ms"
echo "  jobtape run -- true                                              $(ms "$jt" "$runs") ms"
echo "  ratio jobtape/bwrap: $(ratio "$jt" "$bw")   (goal <= 1.0)"
# Where jobtape's time goes, timed the same way.
tr=$(best_of 3 repeat "$runs" "$(type -P true)")
jv=$(best_of 3 repeat "$runs" "$jobtape" --version)
jn=$(best_of 3 repeat "$runs" "$jobtape" run --no-sandbox -- true)
echo "  parts: \`true\` alone $(ms "$tr" "$runs") ms; jobtape --version $(ms "$jv" "$runs") ms;" \
  "jobtape run --no-sandbox -- true $(ms "$jn" "$runs") ms (recording without the sandbox)"
fi

# --- 2. throughput --------------------------------------------------------------
file="$work/project/compiler-output.txt"
# Compiler-like text: warnings with paths, line numbers, carets, some variety.
awk -v target=$((mib * 1024 * 1024)) 'BEGIN {
  srand(7); size = 0
  while (size < target) {
    n = int(rand() * 5000); f = "src/module" int(rand() * 400) "/file" int(rand() * 90) ".cc"
    line = f ":" n ":" int(rand() * 80) ": warning: unused variable \x27tmp" n "\x27 [-Wunused-variable]\n" \
           "  " n " |     int tmp" n " = compute(" n ", data[" int(rand() * 64) "]);\n" \
           "      |         ^~~~~~" n "\n"
    printf "%s", line; size += length(line)
  }
}' >"$file"
size=$(stat -c %s "$file")
cat "$file" >/dev/null  # page cache warm for both sides

bw_cat() { bwrap "${bwrap_args[@]}" cat "$file" | zstd -3 -q >"$work/bwrap.zst"; }
jt_cat() { "$jobtape" run -- cat "$file" >/dev/null || { echo "bench: jobtape run failed" >&2; exit 1; }; }
jt_cat_quiet() { "$jobtape" run --quiet -- cat "$file" || { echo "bench: jobtape run failed" >&2; exit 1; }; }
t_bw=() t_jt=() t_jq=()
for ((r = 0; r < rounds; r++)); do
  t_bw+=("$(best_of 1 bw_cat)")
  t_jt+=("$(best_of 1 jt_cat)")
  t_jq+=("$(best_of 1 jt_cat_quiet)")
done
bw=$(median "${t_bw[@]}")
jt=$(median "${t_jt[@]}")
jq=$(median "${t_jq[@]}")
# The events files of the echoing and quiet runs differ with the pipe reads
# the scheduler allowed: the median one counts.
mapfile -t sizes < <(find "$JOBTAPE_HOME/jobs" -name events.bin.zst -newer "$file" -printf '%s\n')
events=$(median "${sizes[@]}")
echo
echo "throughput, $(awk -v s="$size" 'BEGIN { printf "%.0f", s / 1048576 }') MiB of compiler-like output (median of $rounds interleaved rounds):"
echo "  bwrap ... cat FILE | zstd -3 -q > f           $(ms "$bw") ms   ($(stat -c %s "$work/bwrap.zst") bytes)"
echo "  jobtape run -- cat FILE > /dev/null           $(ms "$jt") ms   (events file ${events:-?} bytes)"
echo "  jobtape run --quiet -- cat FILE               $(ms "$jq") ms"
echo "  ratio jobtape/bwrap+zstd: $(ratio "$jt" "$bw") (echoing), $(ratio "$jq" "$bw") (quiet)   (goal <= 1.0)"
echo "  size events/zstd -3: $(awk -v e="${events:-0}" -v z="$(stat -c %s "$work/bwrap.zst")" 'BEGIN { printf "%.3f", e / z }')   (goal <= 1.05)"
