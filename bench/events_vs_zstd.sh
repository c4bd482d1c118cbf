#!/usr/bin/env bash
# The events writer and reader against the zstd command over the same bytes.
#
#   bench/events_vs_zstd.sh [BUILD_DIR] [SIZE_MIB] [RUNS]
#
# Generates SIZE_MIB (default 1024) MiB of compiler-like log lines, then
#  - writes them into an events file (64 KiB output events, as the
#    supervisor's pipe reads would) and compresses them with `zstd -3 -q`;
#  - decodes the events file back to the output bytes and runs `zstd -dc`.
# Each command runs RUNS times (default 3) from a warm page cache; the best
# wall time counts. Goals: writer/zstd wall <= 1.0, size <= 1.05,
# reader/zstd -dc wall <= 1.3.
set -euo pipefail
shopt -s inherit_errexit

build="${1:-build}"
size_mib="${2:-1024}"
runs="${3:-3}"
bench="$build/bench"
for tool in events_gen_log events_write_file events_read_file; do
  [[ -x "$bench/$tool" ]] || { echo "events_vs_zstd: $bench/$tool missing; build with -Dbenchmarks=enabled" >&2; exit 2; }
done
command -v zstd >/dev/null || { echo "events_vs_zstd: the zstd command is missing" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/jobtape-events-vs-zstd-XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/log.txt"

"$bench/events_gen_log" "$size_mib" > "$log"
cat "$log" > /dev/null

# measure COMMAND: runs COMMAND (a string for bash -c), prints "wall cpu"
# in seconds (cpu = user + sys of the command and its threads).
measure() {
  local TIMEFORMAT='%R %U %S' out
  out=$( { time bash -c "$1" 2>&1 >/dev/null; } 2>&1 )
  awk '{ printf "%.3f %.3f", $1, $2 + $3 }' <<< "${out##*$'\n'}"
}
# The four commands take turns in every round so that a busy machine slows
# them alike; each keeps its best wall time (and the cpu time of that run).
declare -A wall cpu
names=(zstd write unzstd read)
declare -A cmd=(
  [zstd]="zstd -3 -q -c < '$log' > '$work/log.zst'"
  [write]="rm -f '$work/events.bin.zst' && '$bench/events_write_file' '$work/events.bin.zst' < '$log'"
  [unzstd]="zstd -dc -q '$work/log.zst' > /dev/null"
  [read]="'$bench/events_read_file' '$work/events.bin.zst' > /dev/null"
)
for ((round = 0; round < runs; round++)); do
  for name in "${names[@]}"; do
    read -r w c <<< "$(measure "${cmd[$name]}")"
    if [[ -z "${wall[$name]:-}" ]] || awk -v t="$w" -v b="${wall[$name]}" 'BEGIN { exit !(t < b) }'; then
      wall[$name]=$w
      cpu[$name]=$c
    fi
  done
  if ((round == 0)); then
    # The round trip must be exact before its speed means anything.
    "$bench/events_read_file" "$work/events.bin.zst" | cmp -s - "$log" \
      || { echo "events_vs_zstd: decoded output differs from the input" >&2; exit 1; }
  fi
done
s_zstd=$(stat -c %s "$work/log.zst")
s_events=$(stat -c %s "$work/events.bin.zst")

awk -v mib="$size_mib" -v runs="$runs" -v sz="$s_zstd" -v se="$s_events" \
    -v tz="${wall[zstd]}" -v tw="${wall[write]}" -v tu="${wall[unzstd]}" -v tr="${wall[read]}" \
    -v cz="${cpu[zstd]}" -v cw="${cpu[write]}" -v cu="${cpu[unzstd]}" -v cr="${cpu[read]}" 'BEGIN {
  printf "input: %d MiB of compiler-like log lines; best wall of %d runs, warm cache\n", mib, runs
  printf "  %-30s %8s %8s %10s %12s\n", "", "wall s", "cpu s", "MiB/s", "bytes"
  printf "  %-30s %8.3f %8.3f %10.1f %12d\n", "zstd -3 -q", tz, cz, mib / tz, sz
  printf "  %-30s %8.3f %8.3f %10.1f %12d\n", "events writer (64 KiB events)", tw, cw, mib / tw, se
  printf "  %-30s %8.3f %8.3f %10.1f\n", "zstd -dc", tu, cu, mib / tu
  printf "  %-30s %8.3f %8.3f %10.1f\n", "events reader", tr, cr, mib / tr
  printf "writer/zstd wall ratio    %.3f  (goal <= 1.0; cpu ratio %.3f)\n", tw / tz, cw / cz
  printf "events/zstd size ratio    %.3f  (goal <= 1.05)\n", se / sz
  printf "reader/zstd -dc ratio     %.3f  (goal <= 1.3; cpu ratio %.3f)\n", tr / tu, cr / cu
}'
