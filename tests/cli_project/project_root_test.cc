// `jobtape run` without --project: the project is the enclosing repository's
// top level (git, hg, a .jobtape marker), found walking up from the cwd, else
// the cwd. It is what the job may write and what names the project.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/cli_actions/actions_fixture.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string projectOfLastJob(const ActionsHome& home) {
  ProcessResult show = home.jobtape({"job", "show", "last"});
  for (const auto& line : lines(show.out)) {
    if (line.rfind("project ", 0) == 0) return line.substr(line.find_first_not_of(' ', 8));
  }
  return "(no project line in: " + show.out + ")";
}

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  fs::permissions(path, fs::perms::all, fs::perm_options::add);
}

TEST(ProjectRoot, CmakeFromABuildDirectoryBelowAGitCheckout) {
  ActionsHome home;
  const fs::path top = home.project();
  ProcessResult init = runProgram({"git", "init", "-q", top.string()});
  ASSERT_EQ(init.exitStatus, 0) << init.err;
  fs::create_directories(top / "expat" / "build");
  writeFile(top / "expat" / "CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.13)\nproject(tiny C)\nadd_executable(tiny main.c)\n");
  writeFile(top / "expat" / "main.c", "int main(void) { return 0; }\n");
  for (const auto& dir : {top, top / "expat", top / "expat" / "build"}) fs::permissions(dir, fs::perms::all);

  ProcessOptions inBuild;
  inBuild.cwd = top / "expat" / "build";
  ProcessResult configure = home.jobtape({"run", "--", "cmake", ".."}, inBuild);
  ASSERT_EQ(configure.exitStatus, 0) << configure.out << configure.err;
  EXPECT_EQ(projectOfLastJob(home), top.string());
  ProcessResult build = home.jobtape({"run", "--", "cmake", "--build", "."}, inBuild);
  ASSERT_EQ(build.exitStatus, 0) << build.out << build.err;
  EXPECT_TRUE(fs::exists(top / "expat" / "build" / "tiny"));
  // The top level is writable, not only the cwd.
  ProcessResult write = home.jobtape({"run", "--", "sh", "-c", "echo x > ../../top-level-file"}, inBuild);
  EXPECT_EQ(write.exitStatus, 0) << write.err;
  EXPECT_TRUE(fs::exists(top / "top-level-file"));
}

TEST(ProjectRoot, AGitFileAnHgDirectoryAndAMarkerCountToo) {
  ActionsHome home;
  const fs::path top = home.project();
  for (const char* kind : {"worktree", "hg", "marked"}) {
    fs::path repo = top / kind;
    fs::create_directories(repo / "sub" / "dir");
    if (std::string(kind) == "worktree") writeFile(repo / ".git", "gitdir: /elsewhere/.git/worktrees/x\n");
    if (std::string(kind) == "hg") fs::create_directory(repo / ".hg");
    if (std::string(kind) == "marked") writeFile(repo / ".jobtape", "");
    ProcessOptions deep;
    deep.cwd = repo / "sub" / "dir";
    fs::permissions(repo, fs::perms::all);
    fs::permissions(repo / "sub", fs::perms::all);
    fs::permissions(repo / "sub" / "dir", fs::perms::all);
    ProcessResult run = home.jobtape({"run", "--", "true"}, deep);
    ASSERT_EQ(run.exitStatus, 0) << run.err;
    EXPECT_EQ(projectOfLastJob(home), repo.string()) << kind;
  }
}

TEST(ProjectRoot, WithoutARepositoryTheCwdAndProjectOverrides) {
  ActionsHome home;
  fs::path plain = home.project() / "plain";
  fs::create_directory(plain);
  fs::permissions(plain, fs::perms::all);
  ProcessOptions inPlain;
  inPlain.cwd = plain;
  ASSERT_EQ(home.jobtape({"run", "--", "true"}, inPlain).exitStatus, 0);
  EXPECT_EQ(projectOfLastJob(home), plain.string());
  // The parent is not the project: the host's stays untouched (under /tmp
  // it is the sandbox's private /tmp that gets the file).
  ProcessResult outside = home.jobtape({"run", "--", "sh", "-c", "echo x > ../outside"}, inPlain);
  EXPECT_FALSE(fs::exists(home.project() / "outside")) << outside.err;
  // Writing where nothing is writable fails with EROFS, and jobtape says
  // which option would help.
  ProcessResult readOnly = home.jobtape({"run", "--", "sh", "-c", "echo x > /usr/jobtape-probe"}, inPlain);
  EXPECT_NE(readOnly.exitStatus, 0);
  EXPECT_THAT(readOnly.err, HasSubstr("read-only file system: only the project directory, /tmp, $HOME"));
  EXPECT_THAT(readOnly.err, HasSubstr("--bind DIR are writable inside"));
  ASSERT_EQ(home.jobtape({"run", "--project", home.project().string(), "--", "true"}, inPlain).exitStatus, 0);
  EXPECT_EQ(projectOfLastJob(home), home.project().string());
}

}  // namespace
}  // namespace jobtape::testing
