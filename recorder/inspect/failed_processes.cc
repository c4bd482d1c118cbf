#include "recorder/inspect/failed_processes.h"

#include <algorithm>

#include "recorder/inspect/process_roles.h"

namespace jobtape::recorder {

namespace {

ProcessRole roleOf(const ProcessNode& node) {
  // The program it ran last is the one that failed (a shell that exec'd a
  // compiler is that compiler).
  const ProcessImage& image = node.images.back();
  return processRole(image.argv, image.executable);
}

// Both ended the same way: the parent passed the child's status on.
bool sameStatus(const sandbox::ProcessExitRecord& parent, const sandbox::ProcessExitRecord& child) {
  if (parent.signal && child.signal) return true;  // killed together (a timeout, Ctrl-C, the OOM killer)
  if (!parent.signal && !child.signal) return parent.exitCode == child.exitCode;
  if (child.signal) return parent.exitCode == 128 + child.signal;  // a shell reporting a signal
  return child.exitCode == 128 + parent.signal;  // a child that caught the signal that killed its parent
}

class ChainFinder {
 public:
  ChainFinder(const ProcessTree& tree, const std::optional<JobFinishedEvent>& finished)
      : tree_(tree), finished_(finished) {}

  std::vector<FailingChain> find() {
    std::vector<FailingChain> chains;
    // Depth first with an explicit stack: a fork bomb's tree must not overflow ours.
    std::vector<size_t> stack;
    for (auto root = tree_.roots.rbegin(); root != tree_.roots.rend(); ++root) {
      if (tree_.nodes[*root].spawned && failing(*root)) stack.push_back(*root);
    }
    while (!stack.empty()) {
      size_t node = stack.back();
      stack.pop_back();
      std::vector<size_t> explaining = explainingChildren(node);
      if (explaining.empty()) {
        chains.push_back(chainOf(node));
        continue;
      }
      for (auto child = explaining.rbegin(); child != explaining.rend(); ++child) stack.push_back(*child);
    }
    std::stable_sort(chains.begin(), chains.end(), [this](const FailingChain& a, const FailingChain& b) {
      return tree_.nodes[a.node].startNs < tree_.nodes[b.node].startNs;
    });
    return chains;
  }

 private:
  std::optional<sandbox::ProcessExitRecord> exitOf(size_t node) const { return knownExit(tree_, node, finished_); }

  bool failing(size_t node) const {
    auto exit = exitOf(node);
    return exit && exitFailed(*exit);
  }

  std::vector<size_t> explainingChildren(size_t parent) const {
    const ProcessNode& node = tree_.nodes[parent];
    ProcessRole role = roleOf(node);
    std::vector<size_t> failed;
    for (size_t child : node.children) {
      if (failing(child)) failed.push_back(child);
    }
    if (failed.empty() || role == ProcessRole::compilerDriver) return {};
    if (role == ProcessRole::buildDriver) return failed;
    // Otherwise only the failure the parent gave up on explains it.
    size_t last = *std::max_element(failed.begin(), failed.end(), [this](size_t a, size_t b) {
      return exitOf(a)->elapsedNs < exitOf(b)->elapsedNs;
    });
    if (roleOf(tree_.nodes[last]) == ProcessRole::compilerHelper) return {};
    if (!sameStatus(*exitOf(parent), *exitOf(last))) return {};
    uint64_t lastEnded = exitOf(last)->elapsedNs;
    for (size_t child : node.children) {
      if (tree_.nodes[child].startNs > lastEnded) return {};
    }
    return {last};
  }

  FailingChain chainOf(size_t node) const {
    FailingChain found;
    found.node = node;
    for (std::optional<size_t> at = node; at; at = tree_.nodes[*at].parent) found.chain.push_back(*at);
    std::reverse(found.chain.begin(), found.chain.end());
    std::vector<size_t> stack(tree_.nodes[node].children.rbegin(), tree_.nodes[node].children.rend());
    while (!stack.empty()) {
      size_t below = stack.back();
      stack.pop_back();
      if (failing(below)) found.helpers.push_back(below);
      const auto& children = tree_.nodes[below].children;
      stack.insert(stack.end(), children.rbegin(), children.rend());
    }
    return found;
  }

  const ProcessTree& tree_;
  const std::optional<JobFinishedEvent>& finished_;
};

}  // namespace

bool exitFailed(const sandbox::ProcessExitRecord& exit) {
  return exit.statusKnown && (exit.signal != 0 || exit.exitCode != 0);
}

std::optional<sandbox::ProcessExitRecord> knownExit(const ProcessTree& tree, size_t node,
                                                    const std::optional<JobFinishedEvent>& finished) {
  const ProcessNode& process = tree.nodes[node];
  if (process.exit && process.exit->statusKnown) return process.exit;
  if (!process.spawned || !finished) return std::nullopt;
  const sandbox::RunResult& result = finished->result;
  sandbox::ProcessExitRecord exit;
  exit.elapsedNs = process.exit ? process.exit->elapsedNs : result.wallNs;
  exit.pid = process.pid;
  exit.statusKnown = true;
  if (result.signal != 0) {
    exit.signal = result.signal;
  } else {
    exit.exitCode = result.exitCode;
  }
  return exit;
}

std::vector<FailingChain> findFailingChains(const ProcessTree& tree, const std::optional<JobFinishedEvent>& finished) {
  return ChainFinder(tree, finished).find();
}

size_t processesWithUnknownStatus(const ProcessTree& tree) {
  return static_cast<size_t>(std::count_if(tree.nodes.begin(), tree.nodes.end(), [](const ProcessNode& node) {
    return node.exit && !node.exit->statusKnown;
  }));
}

}  // namespace jobtape::recorder
