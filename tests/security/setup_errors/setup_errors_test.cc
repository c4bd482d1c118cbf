// A sandbox that could not be set up says which step failed, with what errno
// and where, in one escaped line on stderr, and the job's record (`job
// show`) says the same; missing mount points are created inside the new
// root (directories, or an empty file for a file bind) in command-line order,
// and a relative --tmpfs is a usage error. Runs as the caller and again as
// nobody (meson registers both).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

class SetupErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(project());
    writeFile(project() / "data.txt", "bound file\n");
    fs::create_directories(project() / "tree" / "leaf");
  }
  fs::path home() const { return dir_.path() / "home"; }
  fs::path project() const { return dir_.path() / "project"; }

  ProcessResult run(const std::vector<std::string>& options, const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"run", "--project", project().string()};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), argv.begin(), argv.end());
    return runJobtapeToEnd(home(), args, {.cwd = project()});
  }
  ProcessResult show() { return runJobtapeToEnd(home(), {"job", "show", "last"}, {.cwd = project()}); }

  // The lines of stderr that are jobtape's own.
  static std::vector<std::string> jobtapeLines(const std::string& err) {
    std::vector<std::string> lines;
    for (const std::string& line : splitLines(err)) {
      if (line.starts_with("jobtape:")) lines.push_back(line);
    }
    return lines;
  }

  TempDir dir_;
};

TEST_F(SetupErrors, AMountPointInsideProcSaysStepErrnoAndPath) {
  const std::string source = (project() / "tree").string();
  ProcessResult ran = run({"--bind", source + ":/proc/foo"}, {"true"});
  EXPECT_EQ(ran.exitStatus, 125) << ran.err;
  ASSERT_THAT(jobtapeLines(ran.err), SizeIs(1)) << ran.err;
  EXPECT_THAT(ran.err, AllOf(HasSubstr("sandbox setup failed at mount point: No such file or directory"),
                             HasSubstr(source + " on /proc/foo"), HasSubstr("the sandbox's own /proc")))
      << ran.err;
  ProcessResult shown = show();
  EXPECT_EQ(shown.exitStatus, 0) << shown.err;
  EXPECT_THAT(shown.out, AllOf(HasSubstr("sandbox setup failed at mount point: No such file or directory"),
                               HasSubstr(source + " on /proc/foo")))
      << shown.out;
}

TEST_F(SetupErrors, AMountPointBelowTheReadOnlyHostSaysWhyAndWhatToDo) {
  ProcessResult ran = run({"--tmpfs", "/jobtape-no-such-dir/cache"}, {"true"});
  EXPECT_EQ(ran.exitStatus, 125) << ran.err;
  ASSERT_THAT(jobtapeLines(ran.err), SizeIs(1)) << ran.err;
  EXPECT_THAT(ran.err, AllOf(HasSubstr("mount point: Read-only file system"),
                             HasSubstr("tmpfs on /jobtape-no-such-dir/cache"), HasSubstr("read-only bind of the host")))
      << ran.err;
  EXPECT_FALSE(fs::exists("/jobtape-no-such-dir")) << "a mount point was made on the host";
}

TEST_F(SetupErrors, AMissingBindSourceOfARecipeNamesIt) {
  const fs::path recipe = dir_.path() / "recipe.json";
  writeFile(recipe, R"({"command": "/bin/true", "workDir": "/",
    "mounts": [{"kind": "roBind", "source": "/", "destination": "/"},
               {"kind": "roBind", "source": "/jobtape-missing-source", "destination": "/opt/x"}]})");
  ProcessResult ran = runJobtapeToEnd(home(), {"run", "--recipe", recipe.string()}, {.cwd = project()});
  EXPECT_EQ(ran.exitStatus, 125) << ran.err;
  EXPECT_THAT(ran.err, AllOf(HasSubstr("bind source: No such file or directory"),
                             HasSubstr("/jobtape-missing-source does not exist on the host")))
      << ran.err;
}

TEST_F(SetupErrors, PathsInTheErrorAreEscaped) {
  const std::string source = (project() / "tree").string();
  ProcessResult ran = run({"--bind", source + ":/proc/x\x1b[31mred"}, {"true"});
  EXPECT_EQ(ran.exitStatus, 125) << ran.err;
  EXPECT_THAT(ran.err, Not(HasSubstr("\x1b"))) << ran.err;
  EXPECT_THAT(ran.err, HasSubstr("/proc/x")) << ran.err;
  ProcessResult shown = show();
  EXPECT_THAT(shown.out, Not(HasSubstr("\x1b"))) << shown.out;
}

TEST_F(SetupErrors, MissingMountPointsAreCreatedInsideInCommandLineOrder) {
  // The tmpfs comes first on the command line, the binds below it after:
  // both their mount points are made inside the fresh tmpfs.
  ProcessResult ran = run({"--tmpfs", "/tmp/made/here", "--ro-bind", (project() / "data.txt").string() + ":/tmp/made/here/a/b/file",
                           "--bind", (project() / "tree").string() + ":/tmp/made/here/c/tree"},
                          {"/bin/sh", "-c", "cat /tmp/made/here/a/b/file && test -d /tmp/made/here/c/tree/leaf && echo ok"});
  EXPECT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_EQ(ran.out, "bound file\nok\n");
  EXPECT_FALSE(fs::exists(project() / "a")) << "a mount point was made outside the new root";
}

TEST_F(SetupErrors, ARelativeTmpfsIsAUsageError) {
  ProcessResult ran = run({"--tmpfs", "cache"}, {"true"});
  EXPECT_EQ(ran.exitStatus, 2);
  EXPECT_THAT(ran.err, StartsWith("jobtape: error: --tmpfs cache: not an absolute path")) << ran.err;
  EXPECT_THAT(splitLines(ran.err), SizeIs(1)) << ran.err;
  EXPECT_FALSE(fs::exists(home() / "jobtape.db")) << "a refused run was recorded";
}

}  // namespace
}  // namespace jobtape::testing
