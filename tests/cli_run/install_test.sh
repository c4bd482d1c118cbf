#!/usr/bin/env bash
# Installs jobtape into a temporary root (meson install --destdir), checks
# the shell completions and the man page are where the shells and man look,
# then builds
# examples/embed.cc and examples/inspect.cc out of tree against the installed
# headers and jobtape.pc only, and runs them: embed records two jobs, one
# succeeds, one fails; inspect lists them and prints the failed one's logs.
# Then an events file is decoded with the installed schema and public tools.
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

# Shell completion and the manual, where the shells and man look for them.
installed() { find "$work/root" -path "*/$1" -print -quit; }
bash_completion="$(installed share/bash-completion/completions/jobtape)"
[[ -n "$bash_completion" ]] || fail "no share/bash-completion/completions/jobtape installed"
[[ -n "$(installed share/zsh/vendor-completions/_jobtape)" ]] || fail "no share/zsh/vendor-completions/_jobtape installed"
[[ -n "$(installed share/fish/vendor_completions.d/jobtape.fish)" ]] ||
  fail "no share/fish/vendor_completions.d/jobtape.fish installed"
completed="$(bash --norc -c 'source "$1"; COMP_WORDS=(jobtape job sh); COMP_CWORD=2; _jobtape; echo "${COMPREPLY[*]}"' \
  _ "$bash_completion")" || fail "the installed bash completion does not load"
[[ "$completed" == show ]] || fail "the installed bash completion completes 'jobtape job sh' to '$completed'"
man_page="$(installed share/man/man1/jobtape.1)"
[[ -n "$man_page" ]] || fail "no share/man/man1/jobtape.1 installed"
MANWIDTH=80 man -l "$man_page" 2>/dev/null | grep -q "jobtape - record sandboxed build jobs" ||
  fail "man -l cannot render the installed jobtape.1"

# The installed tree is used where it lies: the sysroot prefixes the .pc's paths.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$work/root"
flags="$(pkg-config --cflags --libs jobtape)" || fail "pkg-config jobtape"
[[ "$flags" == *"$work/root"* ]] || fail "pkg-config does not point into the installed tree: $flags"

# Out of tree: a copy of the example, nothing from the source or build tree.
mkdir "$work/app"
cp "$source_root/examples/embed.cc" "$source_root/examples/inspect.cc" "$work/app/"
cd "$work/app"
for example in embed inspect; do
  # shellcheck disable=SC2086
  c++ -std=c++20 -Wall -Wextra -Werror "$example.cc" $flags -o "$example" 2>"$work/compile.log" ||
    { cat "$work/compile.log" >&2; fail "building examples/$example.cc against the installed jobtape"; }
  if ldd "./$example" | grep -q "$build_root"; then fail "examples/$example.cc links into the build tree"; fi
done

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

# The inspection API finds the jobs embed recorded and the failed one's output.
LD_LIBRARY_PATH="$libdir" ./inspect "$work/home" >"$work/inspect.txt" 2>"$work/inspect-err.txt" ||
  { cat "$work/inspect.txt" "$work/inspect-err.txt" >&2; fail "the inspect example exited $?"; }
cat "$work/inspect.txt"
failed_id="$(grep -Eo "^$ulid failed exit 1\$" "$work/out.txt" | cut -d' ' -f1)"
[[ "$(grep -Ec "^[0-9A-HJKMNP-TV-Z]{10,26} (succeeded|failed) /bin/sh -c " "$work/inspect.txt")" -eq 2 ]] ||
  fail "inspect did not list the two jobs"
grep -q "^logs of $failed_id (exit 1):\$" "$work/inspect.txt" || fail "inspect did not pick the failed job $failed_id"
sed -n '/^logs of /,$p' "$work/inspect.txt" >"$work/inspect-logs.txt"
grep -q '^bad.c:1:1: error: expected declaration$' "$work/inspect-logs.txt" || fail "inspect did not print the failed job's log"
if grep -q 'compiling good.c' "$work/inspect-logs.txt"; then fail "inspect printed the logs of the job that succeeded"; fi

# The installed schema reads an events file with public tools, no source tree.
schema="$(find "$work/root" -path '*/share/jobtape/events.capnp' -print -quit)"
[[ -n "$schema" ]] || fail "no share/jobtape/events.capnp installed"
[[ -f "$(dirname "$schema")/recipe.capnp" ]] || fail "no share/jobtape/recipe.capnp beside events.capnp"
events_file="$work/home/jobs/$failed_id/events.bin.zst"
zstd -dc "$events_file" | capnp decode "$schema" Event >"$work/decoded.txt" 2>"$work/decode-err.txt" ||
  { cat "$work/decode-err.txt" >&2; fail "capnp decode with the installed schema"; }
grep -q "jobStarted = (" "$work/decoded.txt" || fail "the decoded file has no jobStarted"
grep -q "jobId = \"$failed_id\"" "$work/decoded.txt" || fail "the decoded file is not job $failed_id's"
grep -q "jobFinished = (" "$work/decoded.txt" || fail "the decoded file has no jobFinished"
echo "install_test: ok"
