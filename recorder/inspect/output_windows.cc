#include "recorder/inspect/output_windows.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <string_view>

namespace jobtape::recorder {

namespace {

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

struct Interval {
  uint64_t begin = 0;
  uint64_t end = kNever;  // not ended in the record
  bool contains(uint64_t at) const { return begin <= at && at <= end; }
};

Interval lifetime(const ProcessNode& node) {
  return {node.startNs, node.exit ? node.exit->elapsedNs : kNever};
}

// Splits one window's chunks into lines per stream, keeping the first and
// last ones.
class LineCollector {
 public:
  explicit LineCollector(const WindowLimits& limits) : limits_(limits) {}

  void add(sandbox::Stream stream, uint64_t at, std::string_view bytes, bool alone) {
    Partial& partial = partials_[stream == sandbox::Stream::stdout_ ? 0 : 1];
    while (!bytes.empty()) {
      size_t newline = bytes.find('\n');
      appendCapped(partial, bytes.substr(0, newline));
      partial.alone = partial.alone && alone;
      partial.open = true;
      if (newline == std::string_view::npos) break;
      finish(stream, partial, at);
      bytes.remove_prefix(newline + 1);
    }
    if (partial.open) partial.lastAt = at;
  }

  bool allAlone() const { return allAlone_; }

  LineWindow take(uint64_t begin, std::optional<uint64_t> end) {
    for (int i = 0; i < 2; ++i) {
      if (partials_[i].open) {
        finish(i == 0 ? sandbox::Stream::stdout_ : sandbox::Stream::stderr_, partials_[i], partials_[i].lastAt);
      }
    }
    LineWindow window;
    window.beginNs = begin;
    window.endNs = end;
    window.totalLines = total_;
    window.omitted = omitted_;
    window.omittedAt = head_.size();
    window.lines = std::move(head_);
    window.lines.insert(window.lines.end(), std::make_move_iterator(tail_.begin()), std::make_move_iterator(tail_.end()));
    return window;
  }

 private:
  struct Partial {
    std::string text;
    bool alone = true;
    bool cut = false;
    bool open = false;
    uint64_t lastAt = 0;
  };

  static void appendCapped(Partial& partial, std::string_view bytes) {
    size_t room = kMaxLineBytes - std::min(kMaxLineBytes, partial.text.size());
    if (bytes.size() > room) partial.cut = true;
    partial.text.append(bytes.substr(0, room));
  }

  void finish(sandbox::Stream stream, Partial& partial, uint64_t at) {
    WindowLine line{stream, at, std::move(partial.text), partial.alone, partial.cut};
    partial = Partial{};
    allAlone_ = allAlone_ && line.alone;
    ++total_;
    if (head_.size() < limits_.headLines) {
      head_.push_back(std::move(line));
      return;
    }
    tail_.push_back(std::move(line));
    if (tail_.size() > limits_.tailLines) {
      tail_.pop_front();
      ++omitted_;
    }
  }

  WindowLimits limits_;
  Partial partials_[2];
  std::vector<WindowLine> head_;
  std::deque<WindowLine> tail_;
  uint64_t total_ = 0;
  uint64_t omitted_ = 0;
  bool allAlone_ = true;
};

// One failing process: its windows and who else was running when.
class WindowTracker {
 public:
  WindowTracker(const ProcessTree& tree, const FailingChain& chain, const WindowLimits& limits)
      : during_(limits), after_(limits) {
    const ProcessNode& node = tree.nodes[chain.node];
    life_ = lifetime(node);
    std::vector<bool> inLine(tree.nodes.size(), false);
    for (size_t ancestor : chain.chain) inLine[ancestor] = true;
    markDescendants(tree, chain.node, inLine);
    if (life_.end != kNever) {
      for (size_t i = 0; i < tree.nodes.size(); ++i) {
        if (i == chain.node) continue;
        Interval other = lifetime(tree.nodes[i]);
        if (other.begin > life_.end) afterEnd_ = std::min(afterEnd_, other.begin);
        if (other.end != kNever && other.end > life_.end) afterEnd_ = std::min(afterEnd_, other.end);
      }
    }
    // Who runs from its start until afterEnd_ decides whether a line was alone.
    uint64_t lastRelevant = afterEnd_ == kNever ? life_.end : afterEnd_;
    for (size_t i = 0; i < tree.nodes.size(); ++i) {
      if (inLine[i]) continue;
      Interval other = lifetime(tree.nodes[i]);
      if (other.begin <= life_.end && other.end >= life_.begin) ++concurrent_;
      if (other.begin <= lastRelevant && other.end >= life_.begin) others_.push_back(other);
    }
  }

  void add(const OutputEvent& output) {
    uint64_t at = output.elapsedNs;
    if (life_.contains(at)) {
      during_.add(output.stream, at, output.bytes, aloneAt(at));
    } else if (at > life_.end && at < afterEnd_) {
      after_.add(output.stream, at, output.bytes, aloneAt(at));
    }
  }

  FailureOutput take() {
    FailureOutput result;
    std::optional<uint64_t> end = life_.end == kNever ? std::nullopt : std::optional<uint64_t>(life_.end);
    result.during = during_.take(life_.begin, end);
    std::optional<uint64_t> afterEnd = afterEnd_ == kNever ? std::nullopt : std::optional<uint64_t>(afterEnd_);
    result.after = after_.take(end.value_or(life_.begin), end ? afterEnd : end);
    result.concurrentProcesses = concurrent_;
    result.attributed = during_.allAlone();
    return result;
  }

 private:
  static void markDescendants(const ProcessTree& tree, size_t node, std::vector<bool>& inLine) {
    std::vector<size_t> stack = {node};
    while (!stack.empty()) {
      size_t at = stack.back();
      stack.pop_back();
      inLine[at] = true;
      stack.insert(stack.end(), tree.nodes[at].children.begin(), tree.nodes[at].children.end());
    }
  }

  bool aloneAt(uint64_t at) const {
    return std::none_of(others_.begin(), others_.end(), [at](const Interval& other) { return other.contains(at); });
  }

  Interval life_;
  uint64_t afterEnd_ = kNever;
  std::vector<Interval> others_;
  size_t concurrent_ = 0;
  LineCollector during_;
  LineCollector after_;
};

}  // namespace

std::vector<FailureOutput> collectFailureOutput(EventReader& reader, const ProcessTree& tree,
                                                const std::vector<FailingChain>& chains, const WindowLimits& limits) {
  std::vector<WindowTracker> trackers;
  trackers.reserve(chains.size());
  for (const auto& chain : chains) trackers.emplace_back(tree, chain, limits);
  if (!trackers.empty()) {
    while (auto event = reader.next()) {
      if (event->kind != Event::Kind::output) continue;
      for (auto& tracker : trackers) tracker.add(event->output);
    }
  }
  std::vector<FailureOutput> outputs;
  outputs.reserve(trackers.size());
  for (auto& tracker : trackers) outputs.push_back(tracker.take());
  return outputs;
}

}  // namespace jobtape::recorder
