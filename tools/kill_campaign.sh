#!/usr/bin/env bash
# Kills `jobtape run` with SIGKILL at random moments, N times, and counts
# what the kills left behind:
#   survivors      processes of a killed job still running afterwards
#   lost lines     lines the job wrote before the kill (it also appends each
#                  to a file first) that `jobtape job logs` does not have,
#                  beyond the last 250 ms the writer may still hold
#   running        jobs and builds that still read as running
#   disagreements  jobs whose row and events file say different results
#
#   tools/kill_campaign.sh [-n N] [-b JOBTAPE] [--no-sandbox]
#
# Needs zstd and capnp (for the events files' finish records). Prints one
# line per kill with -v, and the totals at the end.
set -uo pipefail

kills=100
binary=${JOBTAPE_BINARY:-build/cli/jobtape}
sandbox=()
verbose=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -n) kills=$2; shift 2 ;;
    -b) binary=$2; shift 2 ;;
    --no-sandbox) sandbox=(--no-sandbox); shift ;;
    -v) verbose=1; shift ;;
    *) echo "usage: $0 [-n N] [-b JOBTAPE] [--no-sandbox] [-v]" >&2; exit 2 ;;
  esac
done
source_root=$(cd "$(dirname "$0")/.." && pwd)
schema=$source_root/recorder/events/events.capnp
binary=$(realpath "$binary")
work=$(mktemp -d /tmp/jobtape-kill-campaign-XXXXXX)
trap 'rm -rf "$work"' EXIT
home=$work/home
project=$work/project
mkdir -p "$project"
chmod 0755 "$work" "$project"

jt() { "$binary" --home "$home" "$@"; }

survivors=0 lost=0 killed_before_end=0
for ((i = 1; i <= kills; i++)); do
  token="campaign-$$-$i"
  : >"$project/$token.lines"
  # 300 lines over ~1.5 s; each line reaches the file before stdout.
  script='n=0; while [ $n -lt 300 ]; do echo "line $n" >>"$1"; echo "line $n"; n=$((n+1)); sleep 0.005; done'
  (cd "$project" && exec "$binary" --home "$home" run "${sandbox[@]}" --quiet -- sh -c "$script" "$token" \
    "$project/$token.lines" >/dev/null 2>&1) &
  pid=$!
  delay_ms=$((RANDOM % 2200))
  sleep "$(printf '0.%03d' "$delay_ms")" 2>/dev/null || sleep 0
  [[ $delay_ms -ge 1000 ]] && sleep 1
  kill -KILL "$pid" 2>/dev/null && ((killed_before_end++))
  wait "$pid" 2>/dev/null
  sleep 0.3
  left=$(pgrep -f -- "$token" | wc -l)
  if [[ $left -gt 0 ]]; then
    survivors=$((survivors + left))
    pkill -KILL -f -- "$token"
  fi
  # The job's lines that reached its file but not the record; the writer may
  # hold up to 250 ms of output (~50 lines here) when killed.
  job=$(jt job list --limit 1 --json 2>/dev/null | sed -n 's/^ *"id": "\([0-9A-Z]*\)".*/\1/p' | head -n 1)
  if [[ -n $job ]]; then
    recorded=$(jt job logs "$job" 2>/dev/null | grep -c '^line ')
    written=$(grep -c '^line ' "$project/$token.lines")
    missing=$((written - recorded))
    [[ $missing -gt 50 ]] && lost=$((lost + missing - 50))
  fi
  [[ $verbose -eq 1 ]] && echo "kill $i after ${delay_ms} ms: job ${job:-none}, $left survivor(s), $written written, ${recorded:-0} recorded"
done

running_jobs=$(jt job list --status running --limit 0 2>/dev/null | grep -c '^[0-9A-Z]' || true)
running_builds=$(jt build list --limit 0 2>/dev/null | grep -c ' running ' || true)
disagreements=0 jobs=0
for dir in "$home"/jobs/*/; do
  id=$(basename "$dir")
  [[ -f $dir/events.bin.zst ]] || continue
  jobs=$((jobs + 1))
  recorded=$(zstd -dcq "$dir/events.bin.zst" 2>/dev/null | capnp decode "$schema" Event 2>/dev/null |
    sed -n 's/.*jobFinished = (.*result = \([a-z]*\).*/\1/p' | tail -n 1)
  row=$(jt job list --limit 0 --json 2>/dev/null | tr -d '\n ' | grep -o "\"id\":\"$id\"[^}]*\"status\":\"[a-z]*\"" |
    sed 's/.*"status":"\([a-z]*\)"/\1/')
  if [[ -n $recorded && $recorded != "$row" ]]; then
    disagreements=$((disagreements + 1))
    [[ $verbose -eq 1 ]] && echo "job $id: events file says $recorded, row says $row"
  fi
done
echo "kills: $kills (before the job ended: $killed_before_end), jobs recorded: $jobs"
echo "survivors: $survivors"
echo "lost lines (beyond the writer's 250 ms): $lost"
echo "still running: $running_jobs job(s), $running_builds build(s)"
echo "row/events disagreements: $disagreements"
