#!/usr/bin/env bash
# `true` through jobtape's sandbox runner (the library call, no recorder) vs
# bubblewrap vs unshare, side by side in one run: bench/run_true interleaves
# single runs in shuffled order and prints medians and the ratio to bwrap
# (the goal: <= 0.8x).
#
#   bench/runner_vs_bwrap.sh [BUILD_DIR] [ROUNDS]
#
# BUILD_DIR defaults to ./build (configured with benchmarks enabled).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
rounds="${2:-200}"

ninja -C "$build" bench/run_true >/dev/null
echo "$(nproc) cpus, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), as $(id -un)"
"$build/bench/run_true" "$rounds"
