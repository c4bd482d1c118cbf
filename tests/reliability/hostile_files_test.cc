// Hostile events files cost bounded memory: a tiny file whose description
// claims two million arguments, frames of execs whose argv are two million
// null pointers, and half a GiB of output on one line read as a cast and as
// a one-line tail. Each file is generated here (Cap'n Proto messages of the
// schema, zstd frames) and read by the real binary; the bound is on the
// child's peak resident set (getrusage), not on time.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include "recorder/events/events_codec.h"
#include "tests/reliability/reliability_support.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr long kBoundKiB = 200 * 1024;  // far above what reading needs, far below the old costs

recorder::JobDescription description() {
  recorder::JobDescription d;
  d.jobId = "01HZX5K3Q8V6W2N4M7P9R1T3Y5";
  d.buildId = "01HZX5K3Q8V6W2N4M7P9R1T3Y6";
  d.recipe.command = "/bin/sh";
  d.recipe.args = {"-c", "true"};
  d.recipe.env = {{"PATH", "/usr/bin:/bin"}};
  d.recipe.workDir = "/";
  d.recipeHash = std::string(64, 'a');
  d.host = "host";
  d.startedAtUnixNs = 1717171717123456789;
  return d;
}

// Writes zstd frames, one per call, to a file.
class FrameFile {
 public:
  explicit FrameFile(const fs::path& path) : out_(path, std::ios::binary | std::ios::trunc) {}
  void frame(const std::string& content) {
    std::string compressed(ZSTD_compressBound(content.size()), '\0');
    size_t size = ZSTD_compress(compressed.data(), compressed.size(), content.data(), content.size(), 3);
    if (ZSTD_isError(size)) throw std::runtime_error(ZSTD_getErrorName(size));
    out_.write(compressed.data(), static_cast<std::streamsize>(size));
  }

 private:
  std::ofstream out_;
};

std::string bytesOf(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asChars();
  return std::string(bytes.begin(), bytes.size());
}

std::string bytesOf(const recorder::EncodedEvent& event) { return std::string(event.data(), event.size()); }

// A description whose recipe has `arguments` null arguments: a ~15 MB
// message of zeros that compresses to almost nothing.
std::string descriptionWithArguments(unsigned arguments) {
  capnp::MallocMessageBuilder message;
  auto started = message.initRoot<schema::Event>().initJobStarted();
  started.setMagic(recorder::kEventsMagic);
  started.setFormatVersion(recorder::kEventsFormatVersion);
  started.setJobId("01HZX5K3Q8V6W2N4M7P9R1T3Y5");
  started.setBuildId("01HZX5K3Q8V6W2N4M7P9R1T3Y6");
  auto recipe = started.initRecipe();
  recipe.setCommand("/bin/sh");
  recipe.initArgs(arguments);
  return bytesOf(message);
}

std::string execWithNullArgv(unsigned entries) {
  capnp::MallocMessageBuilder message;
  auto exec = message.initRoot<schema::Event>().initProcessExec();
  exec.setPid(2);
  exec.initArgv(entries);
  return bytesOf(message);
}

struct ChildRun {
  int status = -1;
  long maxRssKiB = 0;
  std::string err;
};

// Runs argv with stdout to /dev/null; its peak resident set from wait4.
ChildRun measure(const std::vector<std::string>& argv, const fs::path& errFile) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    int err = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(null, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  ChildRun run;
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.maxRssKiB = usage.ru_maxrss;
  run.err = readFile(errFile);
  return run;
}

class HostileFilesTest : public ::testing::Test {
 protected:
  ChildRun jobtape(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {jobtapeBinary().string(), "--home", (dir_.path() / "home").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto started = std::chrono::steady_clock::now();
    ChildRun run = measure(argv, dir_.path() / "stderr");
    // Said for the record (bench figures), never asserted.
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::string line;
    for (size_t i = 3; i < argv.size(); ++i) line += (i > 3 ? " " : "") + fs::path(argv[i]).filename().string();
    std::cout << "  jobtape " << line << ": peak " << run.maxRssKiB / 1024 << " MiB, " << ms.count() << " ms, exit "
              << run.status << "\n";
    return run;
  }
  fs::path file(const char* name) const { return dir_.path() / name; }
  TempDir dir_;
};

TEST_F(HostileFilesTest, TinyFileWhoseDescriptionClaimsMillionsOfArguments) {
  fs::path events = file("arguments.bin.zst");
  FrameFile(events).frame(descriptionWithArguments(1'900'000));
  ASSERT_LT(fs::file_size(events), 64u * 1024);
  for (const char* command : {"show", "logs"}) {
    auto run = jobtape({"job", command, events.string()});
    SCOPED_TRACE(command);
    EXPECT_EQ(run.status, 1) << run.err;
    EXPECT_THAT(run.err, HasSubstr("jobtape: error: "));
    EXPECT_THAT(run.err, HasSubstr("more than 65536"));
    EXPECT_LT(run.maxRssKiB, kBoundKiB);
  }
}

TEST_F(HostileFilesTest, FramesOfExecsWithMillionsOfNullArguments) {
  fs::path events = file("execs.bin.zst");
  {
    FrameFile out(events);
    out.frame(bytesOf(recorder::encodeJobStarted(description())));
    std::string exec = execWithNullArgv(1'900'000);
    for (int frame = 0; frame < 8; ++frame) out.frame(exec + exec);
  }
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"job", "show", events.string()}, {"job", "show", "--processes", events.string()},
           {"job", "logs", events.string()}}) {
    auto run = jobtape(args);
    SCOPED_TRACE(args[1] + " " + args[2]);
    EXPECT_LE(run.status, 1) << run.err;
    EXPECT_LT(run.maxRssKiB, kBoundKiB);
  }
}

TEST_F(HostileFilesTest, HalfAGibibyteOnOneLineAsACastAndAsATail) {
  fs::path events = file("line.bin.zst");
  constexpr size_t kChunk = recorder::kMaxOutputChunk;
  {
    FrameFile out(events);
    out.frame(bytesOf(recorder::encodeJobStarted(description())));
    std::string chunk(kChunk, 'x');
    std::string frame;
    for (int i = 0; i < 8; ++i) frame += bytesOf(recorder::encodeOutput(sandbox::Stream::stdout_, 1000 + i, chunk));
    for (int frames = 0; frames < 64; ++frames) out.frame(frame);  // 512 MiB, no newline
    sandbox::RunResult result;
    result.wallNs = 5'000'000'000;
    out.frame(bytesOf(recorder::encodeJobFinished(result)));
  }
  auto tail = jobtape({"job", "logs", "--tail", "1", events.string()});
  EXPECT_EQ(tail.status, 0) << tail.err;
  EXPECT_THAT(tail.err, HasSubstr("bytes were cut"));
  EXPECT_LT(tail.maxRssKiB, kBoundKiB);
  auto cast = jobtape({"job", "logs", "--format", "cast", events.string()});
  EXPECT_EQ(cast.status, 0) << cast.err;
  EXPECT_LT(cast.maxRssKiB, kBoundKiB);
}

}  // namespace
}  // namespace jobtape::testing
