// What an events file says about a job as a whole: its description, how it
// finished, how much it wrote, and the tree of processes it exec'd
// (`job show`, `job show --processes`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "recorder/events/event_reader.h"

namespace jobtape::recorder {

// One program a process ran: the spawn of the main process, or an execve.
struct ProcessImage {
  uint64_t elapsedNs = 0;
  std::string executable;
  std::vector<std::string> argv;
  std::string cwd;
};

struct ProcessNode {
  int32_t pid = 0;
  int32_t ppid = 0;
  uint64_t startNs = 0;
  std::optional<sandbox::ProcessExitRecord> exit;  // nullopt: no exit recorded
  std::optional<sandbox::ResourceUsage> rusage;
  // In order; a process that execs again (a shell's `exec`) keeps its node.
  std::vector<ProcessImage> images;
  bool spawned = false;  // the job's main process
  std::optional<size_t> parent;
  std::vector<size_t> children;

  // Wall time from first exec to exit; nullopt when no exit was recorded.
  std::optional<uint64_t> durationNs() const;
};

struct ProcessTree {
  std::vector<ProcessNode> nodes;  // in order of first appearance
  std::vector<size_t> roots;

  struct Row {
    size_t node;
    size_t depth;
  };
  // Depth first, children in order of appearance: the order to print in.
  std::vector<Row> depthFirst() const;
};

// Builds the tree from exec and exit events fed in file order. Pids are those
// inside the job's pid namespace and may be reused: an exec for a pid whose
// last process already exited starts a new node.
class ProcessTreeBuilder {
 public:
  void add(const Event& event);
  const ProcessTree& tree() const { return tree_; }

 private:
  std::optional<size_t> liveNode(int32_t pid) const;
  std::optional<size_t> latestNode(int32_t pid) const;

  ProcessTree tree_;
  std::unordered_map<int32_t, size_t> latestByPid_;
};

struct JobSummary {
  JobDescription description;
  std::optional<JobFinishedEvent> finished;  // nullopt: running, killed, or damaged
  ProcessTree processes;
  uint64_t stdoutBytes = 0;
  uint64_t stderrBytes = 0;
  uint64_t events = 0;
  uint64_t lastElapsedNs = 0;  // latest time any event carried
  std::optional<Damage> damage;
  // What exec tracing missed; nullopt when it recorded everything (or was off).
  std::optional<sandbox::TracingShortfall> tracingIncomplete;
};

// "164 execs not recorded, 2 exits not followed (out of descriptors)": the
// counts that are not zero and the reason, unescaped (it comes from the file).
std::string tracingIncompleteText(const sandbox::TracingShortfall& shortfall);

// Reads every event the reader has now (not following).
JobSummary summarizeEvents(EventReader& reader);

}  // namespace jobtape::recorder
