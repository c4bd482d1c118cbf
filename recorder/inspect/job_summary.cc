#include "recorder/inspect/job_summary.h"

#include <algorithm>

#include <fmt/format.h>

namespace jobtape::recorder {

std::optional<uint64_t> ProcessNode::durationNs() const {
  if (!exit) return std::nullopt;
  return exit->elapsedNs > startNs ? exit->elapsedNs - startNs : 0;
}

std::vector<ProcessTree::Row> ProcessTree::depthFirst() const {
  std::vector<Row> rows;
  rows.reserve(nodes.size());
  // Explicit stack: a fork bomb's tree must not overflow ours.
  std::vector<Row> stack;
  for (auto root = roots.rbegin(); root != roots.rend(); ++root) stack.push_back({*root, 0});
  while (!stack.empty()) {
    Row row = stack.back();
    stack.pop_back();
    rows.push_back(row);
    const auto& children = nodes[row.node].children;
    for (auto child = children.rbegin(); child != children.rend(); ++child) {
      stack.push_back({*child, row.depth + 1});
    }
  }
  return rows;
}

std::optional<size_t> ProcessTreeBuilder::liveNode(int32_t pid) const {
  auto found = latestNode(pid);
  if (found && !tree_.nodes[*found].exit) return found;
  return std::nullopt;
}

std::optional<size_t> ProcessTreeBuilder::latestNode(int32_t pid) const {
  auto found = latestByPid_.find(pid);
  if (found == latestByPid_.end()) return std::nullopt;
  return found->second;
}

void ProcessTreeBuilder::add(const Event& event) {
  if (event.kind == Event::Kind::exec) {
    const sandbox::ExecRecord& exec = event.exec.record;
    ProcessImage image{exec.elapsedNs, exec.executable, exec.argv, exec.cwd};
    if (auto existing = liveNode(exec.pid)) {
      tree_.nodes[*existing].images.push_back(std::move(image));
      tree_.nodes[*existing].spawned |= event.exec.spawned;
      return;
    }
    ProcessNode node;
    node.pid = exec.pid;
    node.ppid = exec.ppid;
    node.startNs = exec.elapsedNs;
    node.spawned = event.exec.spawned;
    node.images.push_back(std::move(image));
    size_t index = tree_.nodes.size();
    // The parent may have exited already (a daemonising double fork): it is
    // still the parent to show.
    std::optional<size_t> parent = exec.ppid > 0 ? latestNode(exec.ppid) : std::nullopt;
    node.parent = parent;
    tree_.nodes.push_back(std::move(node));
    latestByPid_[exec.pid] = index;
    if (parent) tree_.nodes[*parent].children.push_back(index);
    else tree_.roots.push_back(index);
  } else if (event.kind == Event::Kind::processExit) {
    // Exits of processes never seen exec (forked helpers) are not in the tree.
    if (auto node = liveNode(event.processExit.record.pid)) {
      tree_.nodes[*node].exit = event.processExit.record;
      tree_.nodes[*node].rusage = event.processExit.rusage;
    }
  }
}

std::string tracingIncompleteText(const sandbox::TracingShortfall& shortfall) {
  auto count = [](uint64_t n, const char* what, const char* how) {
    return fmt::format("{} {}{} {}", n, what, n == 1 ? "" : "s", how);
  };
  std::string text;
  if (shortfall.missedExecs != 0 || shortfall.missedExits == 0) {
    text = count(shortfall.missedExecs, "exec", "not recorded");
  }
  if (shortfall.missedExits != 0) {
    text += (text.empty() ? "" : ", ") + count(shortfall.missedExits, "exit", "not followed");
  }
  return text + " (" + (shortfall.reason.empty() ? "no reason given" : shortfall.reason) + ")";
}

JobSummary summarizeEvents(EventReader& reader) {
  JobSummary summary;
  summary.description = reader.description();
  ProcessTreeBuilder processes;
  while (auto event = reader.next()) {
    ++summary.events;
    switch (event->kind) {
      case Event::Kind::output:
        (event->output.stream == sandbox::Stream::stdout_ ? summary.stdoutBytes : summary.stderrBytes) +=
            event->output.bytes.size();
        summary.lastElapsedNs = std::max(summary.lastElapsedNs, event->output.elapsedNs);
        break;
      case Event::Kind::exec:
        summary.lastElapsedNs = std::max(summary.lastElapsedNs, event->exec.record.elapsedNs);
        processes.add(*event);
        break;
      case Event::Kind::processExit:
        summary.lastElapsedNs = std::max(summary.lastElapsedNs, event->processExit.record.elapsedNs);
        processes.add(*event);
        break;
      case Event::Kind::jobFinished:
        summary.lastElapsedNs = std::max(summary.lastElapsedNs, event->finished.result.wallNs);
        summary.finished = event->finished;
        break;
      case Event::Kind::tracingIncomplete:
        summary.tracingIncomplete = event->tracingIncomplete;
        break;
      case Event::Kind::jobStarted:
      case Event::Kind::unknown:
        break;
    }
  }
  summary.damage = reader.damage();
  summary.processes = processes.tree();
  return summary;
}

}  // namespace jobtape::recorder
