// The events file is readable with public tools alone:
//   zstd -dc events.bin.zst | capnp decode recorder/events/events.capnp Event
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include "recorder/events/event_writer.h"
#include "recorder/events/events_test_support.h"

namespace jobtape::recorder {
namespace {

using testing::exitedWith;
using testing::sampleDescription;
using testing::TempDir;
using ::testing::HasSubstr;

struct Shell {
  int status = -1;
  std::string output;
};

// Runs `command` with /bin/sh in `cwd`, capturing stdout and stderr.
Shell runShell(const std::string& command, const std::filesystem::path& cwd) {
  const std::string line = "cd '" + cwd.string() + "' && { " + command + " ; } 2>&1";
  Shell result;
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  result.status = ::pclose(pipe);
  return result;
}

TEST(EventsFileWithPublicTools, ZstdAndCapnpDecodePrintTheEvents) {
  const char* root = std::getenv("JOBTAPE_SOURCE_ROOT");
  ASSERT_NE(root, nullptr) << "run through meson test: JOBTAPE_SOURCE_ROOT names the source tree";
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(root) / "recorder/events/events.capnp"));

  TempDir dir;
  const auto path = dir / "events.bin.zst";
  {
    auto writer = EventWriter::create(path, sampleDescription());
    writer->exec({10, 1, 0, "/usr/bin/make", {"make", "all"}, "/src"});
    const std::string line = "compiling foo.c\n";
    writer->output(sandbox::Stream::stdout_, 20, {line.data(), line.size()});
    writer->flush();  // more than one frame: the stream of frames decodes as one
    const std::string warning = "foo.c:3: warning: unused\n";
    writer->output(sandbox::Stream::stderr_, 30, {warning.data(), warning.size()});
    writer->finish(exitedWith(0));
  }

  Shell shell = runShell(
      "zstd -dc '" + path.string() + "' | capnp decode recorder/events/events.capnp Event", root);
  ASSERT_EQ(shell.status, 0) << shell.output;
  EXPECT_THAT(shell.output, HasSubstr("jobStarted"));
  EXPECT_THAT(shell.output, HasSubstr("magic = \"jobtape-events\""));
  EXPECT_THAT(shell.output, HasSubstr("command = \"cc\""));
  EXPECT_THAT(shell.output, HasSubstr("processExec"));
  EXPECT_THAT(shell.output, HasSubstr("compiling foo.c\\n"));
  EXPECT_THAT(shell.output, HasSubstr("foo.c:3: warning: unused\\n"));
  EXPECT_THAT(shell.output, HasSubstr("jobFinished"));
  EXPECT_THAT(shell.output, HasSubstr("result = succeeded"));
}

}  // namespace
}  // namespace jobtape::recorder
