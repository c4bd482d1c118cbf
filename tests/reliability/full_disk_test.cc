// A home on a full disk: a job whose output does not fit is said to have an
// incomplete record and `jobtape run` fails; listings, show, logs and gc
// work, and gc frees the files of the jobs it removes although it cannot
// write the database. The
// home is a 3 MiB tmpfs in a user and mount namespace of the test's own
// (unshare -rm), so it runs unprivileged too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/reliability/reliability_support.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs in the namespace: $1 the mount point, $2 the jobtape binary. Prints
// "NAME=STATUS" after each step and the steps' output in between.
constexpr const char* kScript = R"sh(
base=$1; jt=$2
mount -t tmpfs -o size=3m tmpfs "$base" || { echo "no-mount"; exit 0; }
home=$base/home; mkdir "$base/project"; cd "$base/project" || exit 1
for i in 1 2 3 4; do
  "$jt" --home "$home" run --no-sandbox --quiet -- sh -c "echo line-$i; head -c 200000 /dev/urandom | od | head -n 2000; exit $((i % 2))" \
    >/dev/null 2>&1
  echo "run$i=$?"
done
"$jt" --home "$home" run --no-sandbox --quiet -- sh -c "head -c 6000000 /dev/urandom | base64" >/dev/null 2>"$base/../big.err"
echo "big=$?"
grep -c "^jobtape: warning: the record of job .* is incomplete: its events file is incomplete" "$base/../big.err" |
  sed 's/^/big-warnings=/'
dd if=/dev/zero of="$base/filler" bs=4k >/dev/null 2>&1
echo "free=$(df -k --output=avail "$base" | tail -n 1 | tr -d ' ')"
"$jt" --home "$home" job list; echo "list=$?"
"$jt" --home "$home" job show last >/dev/null; echo "show=$?"
"$jt" --home "$home" job logs failed >"$base/../logs.out"; echo "logs=$?"; head -n 1 "$base/../logs.out"
"$jt" --home "$home" build list >/dev/null; echo "builds=$?"
echo "dirs-before=$(ls "$home/jobs" | wc -l)"
"$jt" --home "$home" gc --keep-failed 0 --keep-succeeded 0; echo "gc=$?"
echo "dirs-after=$(ls "$home/jobs" | wc -l)"
"$jt" --home "$home" job list; echo "list-after=$?"
rm -f "$base/filler"
"$jt" --home "$home" gc --keep-failed 0 --keep-succeeded 0 >/dev/null; echo "gc-again=$?"
echo "rows=$(sqlite3 "$home/jobtape.db" 'SELECT count(*) FROM jobs')"
)sh";

TEST(FullDisk, ReadersAndGcWorkAndGcFreesTheFiles) {
  TempDir dir;
  fs::path mountPoint = dir.path() / "mnt";
  fs::create_directory(mountPoint);
  auto result = runProgramToEnd(
      {"/usr/bin/unshare", "-rm", "/bin/sh", "-c", kScript, "sh", mountPoint.string(), jobtapeBinary().string()});
  if (result.exitStatus != 0 && result.out.empty()) {
    GTEST_SKIP() << "no user and mount namespace here: " << result.err;
  }
  if (result.out.find("no-mount") != std::string::npos) GTEST_SKIP() << "cannot mount a tmpfs: " << result.err;
  const std::string& out = result.out;
  SCOPED_TRACE(out + result.err);
  for (const char* step : {"run1=1", "run2=0", "run3=1", "run4=0"}) EXPECT_THAT(out, HasSubstr(step));
  EXPECT_THAT(out, HasSubstr("free=0\n")) << "the disk was not full";
  EXPECT_THAT(out, HasSubstr("list=0"));
  EXPECT_THAT(out, HasSubstr("show=0"));
  EXPECT_THAT(out, HasSubstr("logs=0\nline-3\n"));
  EXPECT_THAT(out, HasSubstr("builds=0"));
  EXPECT_THAT(out, HasSubstr("big=1")) << "a succeeded job with an incomplete record is no plain success";
  EXPECT_THAT(out, HasSubstr("big-warnings=1\n"));
  EXPECT_THAT(out, HasSubstr("dirs-before=5"));
  EXPECT_THAT(out, HasSubstr("gc=0"));
  EXPECT_THAT(out, HasSubstr("dirs-after=0")) << "gc frees the files on a full disk";
  EXPECT_THAT(out, HasSubstr("list-after=0"));
  EXPECT_THAT(out, HasSubstr("gc-again=0"));
  EXPECT_THAT(out, HasSubstr("rows=0")) << "with room again, the rows go too";
  EXPECT_THAT(result.err, Not(HasSubstr("sqlite")));
}

}  // namespace
}  // namespace jobtape::testing
