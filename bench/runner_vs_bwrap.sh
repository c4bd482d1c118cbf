#!/usr/bin/env bash
# `true` through jobtape's sandbox runner (the library call, no recorder) vs
# bubblewrap vs unshare, side by side in one run: bench/run_true interleaves
# single runs in shuffled order and prints medians and the ratio to bwrap
# (the goal: <= 0.8x). A last contender runs the job through the Recorder
# API (rows and events file included): what recording adds to each job of an
# embedding build tool.
#
#   bench/runner_vs_bwrap.sh [BUILD_DIR] [ROUNDS]
#
# BUILD_DIR defaults to ./build (configured with benchmarks enabled).
# On a busy machine the figures measure the scheduler more than the sandbox
# (every contender waits for CPU at each of its wake-ups); as root,
# JOBTAPE_BENCH_REALTIME=1 runs the driver (and so every contender) under
# SCHED_FIFO, which takes the other load out of the comparison.
# JOBTAPE_BENCH_USER=nobody runs it as that user (the unprivileged path).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath "${1:-$here/build}")"
rounds="${2:-200}"

# Built by the caller when it may write the build tree (not as nobody).
[[ -w $build ]] && ninja -C "$build" bench/run_true >/dev/null
prefix=()
if [[ ${JOBTAPE_BENCH_REALTIME:-0} == 1 ]]; then
  prefix+=(chrt --fifo 10)
fi
user="${JOBTAPE_BENCH_USER:-$(id -un)}"
if [[ $user != "$(id -un)" ]]; then
  prefix+=(setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups --inh-caps=-all)
fi
echo "$(nproc) cpus, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), as $user," \
  "$([[ ${JOBTAPE_BENCH_REALTIME:-0} == 1 ]] && echo SCHED_FIFO || echo SCHED_OTHER)"
(cd /tmp && "${prefix[@]}" "$build/bench/run_true" "$rounds")
