#!/usr/bin/env bash
# `true` through jobtape's sandbox runner vs bubblewrap vs unshare, side by
# side in one run (random interleaving of repetitions), medians of wall time
# per start-to-exit, and the ratio to bwrap (the goal: <= 0.8).
#
#   bench/runner_vs_bwrap.sh [BUILD_DIR] [REPETITIONS]
#
# BUILD_DIR defaults to ./build; it must have been configured with benchmarks.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
repetitions="${2:-15}"

ninja -C "$build" bench/run_true >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$build/bench/run_true" --benchmark_repetitions="$repetitions" --benchmark_enable_random_interleaving=true \
  --benchmark_min_time=0.2 --benchmark_format=json --benchmark_out="$out" --benchmark_out_format=json >/dev/null

python3 - "$out" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
medians = {}
for b in data["benchmarks"]:
    if b.get("aggregate_name") == "median":
        medians[b["run_name"].removeprefix("BM_").lower()] = b["real_time"]  # ms
ctx = data["context"]
print(f"{ctx['num_cpus']} cpus, {ctx.get('library_build_type', '')} libbenchmark; median wall time per run of `true`:")
labels = {
    "runner": "jobtape runner (sandbox::run, ro /, own proc/dev, all ns, seccomp)",
    "bwrap": "bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev",
    "unshare": "unshare -Urpfmiun",
    "plain": "plain fork+exec",
}
for key in ["runner", "bwrap", "unshare", "plain"]:
    if key in medians:
        print(f"  {medians[key]:7.3f} ms  {labels[key]}")
if "runner" in medians and "bwrap" in medians:
    ratio = medians["runner"] / medians["bwrap"]
    print(f"runner / bwrap = {ratio:.2f}x (goal <= 0.80x): {'met' if ratio <= 0.8 else 'NOT met'}")
PY
