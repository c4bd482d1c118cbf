#!/usr/bin/env bash
# Installs jobtape into a temporary root (meson install --destdir), then builds
# examples/embed.cc out of tree against the installed header and jobtape.pc
# only, and runs it: two recorded jobs, one succeeds, one fails.
# Usage: install_test.sh BUILD_ROOT SOURCE_ROOT
set -euo pipefail
build_root="${1:?build root}"
source_root="${2:?source root}"
work="$(mktemp -d "${TMPDIR:-/tmp}/jobtape-install-XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "install_test: FAILED: $*" >&2; exit 1; }

meson install -C "$build_root" --no-rebuild --quiet --destdir "$work/root" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "meson install"; }

pc="$(find "$work/root" -name jobtape.pc -print -quit)"
[[ -n "$pc" ]] || fail "no jobtape.pc installed"
header="$(find "$work/root" -path '*/include/jobtape/recorder.h' -print -quit)"
[[ -n "$header" ]] || fail "no jobtape/recorder.h installed"
[[ -f "$(dirname "$header")/recipe.h" ]] || fail "no jobtape/recipe.h installed"

# The installed tree is used where it lies: the sysroot prefixes the .pc's paths.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$work/root"
flags="$(pkg-config --cflags --libs jobtape)" || fail "pkg-config jobtape"
[[ "$flags" == *"$work/root"* ]] || fail "pkg-config does not point into the installed tree: $flags"

# Out of tree: a copy of the example, nothing from the source or build tree.
mkdir "$work/app"
cp "$source_root/examples/embed.cc" "$work/app/"
cd "$work/app"
# shellcheck disable=SC2086
c++ -std=c++20 -Wall -Wextra -Werror embed.cc $flags -o embed 2>"$work/compile.log" ||
  { cat "$work/compile.log" >&2; fail "building the example against the installed jobtape"; }
if ldd ./embed | grep -q "$build_root"; then fail "the example links into the build tree"; fi

libdir="$(dirname "$(dirname "$pc")")"
LD_LIBRARY_PATH="$libdir" ./embed "$work/home" >"$work/out.txt" 2>"$work/err.txt" ||
  { cat "$work/out.txt" "$work/err.txt" >&2; fail "the example exited $?"; }
cat "$work/out.txt"

ulid='[0-9A-HJKMNP-TV-Z]{26}'
grep -Eq "^$ulid succeeded exit 0\$" "$work/out.txt" || fail "no succeeded job id printed"
grep -Eq "^$ulid failed exit 1\$" "$work/out.txt" || fail "no failed job id printed"
grep -q '^\[good\] compiling good.c$' "$work/err.txt" || fail "the output callback did not see the job's output"
grep -q "^  exit 1  /bin/sh -c 'echo" "$work/out.txt" || fail "what failed does not name the failed job's command"
grep -q "bad.c:1:1: error: expected declaration" "$work/out.txt" || fail "what failed does not show its output"
# The jobs are really recorded in the store the example was given.
[[ -f "$work/home/jobtape.db" ]] || fail "no store written"
[[ "$(find "$work/home/jobs" -name events.bin.zst | wc -l)" -eq 2 ]] || fail "expected two events files"
echo "install_test: ok"
