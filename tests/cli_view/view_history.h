// A known history of jobs for the tests of `jobtape job list/show/logs/
// replay`, written straight through the store and the events writer (the
// same calls `jobtape run` makes), so every time, output chunk and outcome
// is exactly what the test says.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "recorder/events/event_writer.h"
#include "sandbox/run_result.h"
#include "sandbox/runner.h"
#include "store/store.h"

namespace jobtape::testing {

struct Chunk {
  sandbox::Stream stream;
  uint64_t ms;  // time since the job started
  std::string bytes;
};

// What happens in a job, in order.
using Step = std::variant<Chunk, sandbox::ExecRecord, sandbox::ProcessExitRecord>;

inline Chunk out(uint64_t ms, std::string bytes) { return {sandbox::Stream::stdout_, ms, std::move(bytes)}; }
inline Chunk err(uint64_t ms, std::string bytes) { return {sandbox::Stream::stderr_, ms, std::move(bytes)}; }

struct JobSpec {
  std::string command = "sh";
  std::vector<std::string> args;
  std::string name;
  std::string project = "/src/app";
  pid_t pid = 0;
  // The process holding the job's lease; 0: this test process (alive, so
  // the job is never reaped). A dead pid makes the job abandoned.
  pid_t recorderPid = 0;
  std::vector<Step> steps;
  // nullopt: the job is left running (begun, never finished).
  std::optional<sandbox::RunResult> result = exited(0);

  static sandbox::RunResult exited(int code, uint64_t wallMs = 0);
  static sandbox::RunResult signaled(int signal, uint64_t wallMs = 0);
};

struct RecordedJob {
  std::string id;
  std::string buildId;
  std::string recipeHash;
  std::filesystem::path dir;
  std::filesystem::path eventsFile;
};

// A job being recorded: the test plays the recorder.
class LiveJob {
 public:
  LiveJob(store::Store& store, RecordedJob job, std::unique_ptr<recorder::EventWriter> writer);
  const RecordedJob& job() const { return job_; }
  // Writes a chunk and ends the frame so a follower can read it at once.
  void write(const Chunk& chunk);
  void finish(const sandbox::RunResult& result);
  // The recorder stops without writing jobFinished, but the store is told
  // the job ended (as when the events file is lost at the end).
  void finishInStoreOnly(const sandbox::RunResult& result);

 private:
  store::Store& store_;
  RecordedJob job_;
  std::unique_ptr<recorder::EventWriter> writer_;
};

class History {
 public:
  explicit History(std::filesystem::path home);
  ~History();

  // One build with one project and this one job, as `jobtape run` makes.
  RecordedJob add(const JobSpec& spec);
  std::unique_ptr<LiveJob> start(const JobSpec& spec);

  store::Store& store() { return *store_; }

 private:
  std::unique_ptr<store::Store> store_;
};

// The bytes of `steps`' output chunks (optionally of one stream), in order.
std::string outputOf(const std::vector<Step>& steps, std::optional<sandbox::Stream> stream = std::nullopt);

}  // namespace jobtape::testing
