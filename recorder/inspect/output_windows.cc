#include "recorder/inspect/output_windows.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <string_view>

namespace jobtape::recorder {

namespace {

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
// Shorter names would match too much by chance.
constexpr size_t kMinFileNameBytes = 3;

struct Interval {
  uint64_t begin = 0;
  uint64_t end = kNever;  // not ended in the record
  bool contains(uint64_t at) const { return begin <= at && at <= end; }
};

Interval lifetime(const ProcessNode& node) {
  return {node.startNs, node.exit ? node.exit->elapsedNs : kNever};
}

// The base names of the files a process's command names: its arguments that
// are no options and look like paths ("src/bad.c" -> "bad.c").
std::vector<std::string> fileNames(const ProcessNode& node) {
  std::vector<std::string> names;
  const auto& argv = node.images.back().argv;
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string_view word = argv[i];
    if (word.empty() || word.front() == '-') continue;
    if (word.find('/') == std::string_view::npos && word.find('.') == std::string_view::npos) continue;
    std::string_view base = word.substr(word.rfind('/') == std::string_view::npos ? 0 : word.rfind('/') + 1);
    if (base.size() >= kMinFileNameBytes) names.emplace_back(base);
  }
  return names;
}

bool partOfName(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; }

// `text` has one of `names` as a whole word ("bad.c:2:10", "‘bad.c’", not "notbad.c").
bool mentionsAny(std::string_view text, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
      size_t end = at + name.size();
      bool startsWord = at == 0 || !partOfName(text[at - 1]);
      bool endsWord = end == text.size() || !std::isalnum(static_cast<unsigned char>(text[end]));
      if (startsWord && endsWord) return true;
    }
  }
  return false;
}

// Splits one window's chunks into lines per stream, keeping the first and
// last ones.
class LineCollector {
 public:
  // Says whether a line that was not alone is the process's by name, given
  // the line before it on its stream (if any).
  using ByName = std::function<bool(const WindowLine& line, const WindowLine* previous)>;
  // Says whether a finished line belongs in the window at all.
  using Keep = std::function<bool(const WindowLine& line)>;

  LineCollector(const WindowLimits& limits, ByName byName, Keep keep = {})
      : limits_(limits), byName_(std::move(byName)), keep_(std::move(keep)) {}

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
  bool allAloneOrByName() const { return allAloneOrByName_; }

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
    WindowLine line{stream, at, std::move(partial.text), partial.alone, false, partial.cut};
    partial = Partial{};
    std::optional<WindowLine>& previous = previous_[stream == sandbox::Stream::stdout_ ? 0 : 1];
    line.byName = !line.alone && byName_(line, previous ? &*previous : nullptr);
    previous = WindowLine{line.stream, line.elapsedNs, std::string(), line.alone, line.byName, false};
    if (keep_ && !keep_(line)) return;
    allAlone_ = allAlone_ && line.alone;
    allAloneOrByName_ = allAloneOrByName_ && (line.alone || line.byName);
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
  ByName byName_;
  Keep keep_;
  Partial partials_[2];
  std::optional<WindowLine> previous_[2];  // its flags only
  std::vector<WindowLine> head_;
  std::deque<WindowLine> tail_;
  uint64_t total_ = 0;
  uint64_t omitted_ = 0;
  bool allAlone_ = true;
  bool allAloneOrByName_ = true;
};

// One failing process: its windows and who else was running when. Not
// movable: its collectors call back into it.
class WindowTracker {
 public:
  WindowTracker(const ProcessTree& tree, const FailingChain& chain, const WindowLimits& limits)
      : during_(limits, [this](const WindowLine& line, const WindowLine* previous) { return byName(line, previous); }),
        after_(limits, [](const WindowLine&, const WindowLine*) { return false; },
               [this](const WindowLine& line) { return noteAfterLine(line); }),
        late_({limits.headLines, 0}, [](const WindowLine&, const WindowLine*) { return false; },
              [this](const WindowLine& line) { return takesIntoLateReport(line); }) {
    const ProcessNode& node = tree.nodes[chain.node];
    life_ = lifetime(node);
    ownNames_ = fileNames(node);
    std::vector<bool> inLine(tree.nodes.size(), false);
    for (size_t ancestor : chain.chain) inLine[ancestor] = true;
    markDescendants(tree, chain.node, inLine);
    if (life_.end != kNever) afterEnd_ = endOfAfter(tree, inLine);
    // To the end of the record: the build tool's own end is no bound, as
    // what it wrote just before it is often read just after it.
    lateReport_ = afterEnd_ != kNever;
    // Who runs from its start until afterEnd_ decides whether a line was alone.
    uint64_t lastRelevant = afterEnd_ == kNever ? life_.end : afterEnd_;
    for (size_t i = 0; i < tree.nodes.size(); ++i) {
      if (inLine[i]) continue;
      Interval other = lifetime(tree.nodes[i]);
      if (other.begin <= life_.end && other.end >= life_.begin) ++concurrent_;
      if (other.begin <= lastRelevant && other.end >= life_.begin) others_.push_back({other, fileNames(tree.nodes[i])});
      if (lateReport_ && other.end > life_.end) {
        othersAfterEnd_.push_back({other, fileNames(tree.nodes[i])});
      }
    }
  }

  void add(const OutputEvent& output) {
    uint64_t at = output.elapsedNs;
    if (life_.contains(at)) {
      during_.add(output.stream, at, output.bytes, aloneAt(at));
    } else if (at > life_.end && at < afterEnd_) {
      after_.add(output.stream, at, output.bytes, aloneAt(at));
    } else if (lateReport_ && at >= afterEnd_) {
      late_.add(output.stream, at, output.bytes, false);
    }
  }

  WindowTracker(const WindowTracker&) = delete;
  WindowTracker& operator=(const WindowTracker&) = delete;

  FailureOutput take() {
    FailureOutput result;
    std::optional<uint64_t> end = life_.end == kNever ? std::nullopt : std::optional<uint64_t>(life_.end);
    result.during = during_.take(life_.begin, end);
    std::optional<uint64_t> afterEnd = afterEnd_ == kNever ? std::nullopt : std::optional<uint64_t>(afterEnd_);
    result.after = after_.take(end.value_or(life_.begin), end ? afterEnd : end);
    if (!afterNamedIt_) {
      appendLateReport(result.after, late_.take(afterEnd_, std::nullopt));
    }
    result.concurrentProcesses = concurrent_;
    result.attributed = during_.allAlone();
    result.attributedByName = during_.allAloneOrByName();
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

  // The first start or end, after its end, of a process outside its line,
  // not counting the helpers of a command that was still running then
  // (cc1plus or as under the other compiler driver of `ninja -j2`): the
  // build tool has not moved on, and under load such a start often comes
  // between the end and the build tool's report of it. That command's own
  // end counts.
  uint64_t endOfAfter(const ProcessTree& tree, const std::vector<bool>& inLine) const {
    std::vector<bool> runningAtEnd(tree.nodes.size(), false);
    for (size_t i = 0; i < tree.nodes.size(); ++i) {
      Interval other = lifetime(tree.nodes[i]);
      runningAtEnd[i] = !inLine[i] && other.begin <= life_.end && other.end > life_.end;
    }
    uint64_t endsAt = kNever;
    for (size_t i = 0; i < tree.nodes.size(); ++i) {
      if (inLine[i]) continue;  // its ancestors end after it, and then report on it
      Interval other = lifetime(tree.nodes[i]);
      if (descendsFromAny(tree, i, runningAtEnd)) continue;
      if (other.begin > life_.end) endsAt = std::min(endsAt, other.begin);
      if (other.end != kNever && other.end > life_.end) endsAt = std::min(endsAt, other.end);
    }
    return endsAt;
  }

  bool noteAfterLine(const WindowLine& line) {
    afterNamedIt_ = afterNamedIt_ || mentionsAny(line.text, ownNames_);
    return true;
  }

  // The build tool's report of it when it came late (see output_windows.h):
  // from the first line naming its files and none of the others', up to the
  // first that names one of theirs.
  bool takesIntoLateReport(const WindowLine& line) {
    if (lateState_ == LateState::done) return false;
    bool theirs = std::any_of(othersAfterEnd_.begin(), othersAfterEnd_.end(), [&](const Other& other) {
      return other.life.begin <= line.elapsedNs && mentionsAny(line.text, other.names);
    });
    if (lateState_ == LateState::looking) {
      if (theirs || !mentionsAny(line.text, ownNames_)) return false;
      lateState_ = LateState::taking;
      return true;
    }
    if (theirs) lateState_ = LateState::done;
    return !theirs;
  }

  static void appendLateReport(LineWindow& after, LineWindow late) {
    if (late.lines.empty()) return;
    for (auto& line : late.lines) line.byName = true;
    if (late.omitted > 0 && after.omitted == 0) after.omittedAt = after.lines.size() + late.lines.size();
    after.omitted += late.omitted;
    after.totalLines += late.lines.size() + late.omitted;
    after.lines.insert(after.lines.end(), std::make_move_iterator(late.lines.begin()),
                       std::make_move_iterator(late.lines.end()));
    after.endNs = late.endNs;
  }

  static bool descendsFromAny(const ProcessTree& tree, size_t node, const std::vector<bool>& set) {
    for (std::optional<size_t> at = tree.nodes[node].parent; at; at = tree.nodes[*at].parent) {
      if (set[*at]) return true;
    }
    return false;
  }

  bool aloneAt(uint64_t at) const {
    return std::none_of(others_.begin(), others_.end(), [at](const Other& other) { return other.life.contains(at); });
  }

  // It names a file of this process's command and none of the files of the
  // others running then; or it names none of theirs and follows such a line.
  bool byName(const WindowLine& line, const WindowLine* previous) const {
    for (const Other& other : others_) {
      if (other.life.contains(line.elapsedNs) && mentionsAny(line.text, other.names)) return false;
    }
    return mentionsAny(line.text, ownNames_) || (previous && (previous->alone || previous->byName));
  }

  struct Other {
    Interval life;
    std::vector<std::string> names;
  };

  Interval life_;
  uint64_t afterEnd_ = kNever;
  std::vector<std::string> ownNames_;
  std::vector<Other> others_;
  size_t concurrent_ = 0;
  enum class LateState { looking, taking, done };

  // Whether to look for a late report (it ended and its window closed).
  bool lateReport_ = false;
  std::vector<Other> othersAfterEnd_;  // outside its line, running after its end
  bool afterNamedIt_ = false;
  LateState lateState_ = LateState::looking;
  LineCollector during_;
  LineCollector after_;
  LineCollector late_;
};

}  // namespace

std::vector<FailureOutput> collectFailureOutput(EventReader& reader, const ProcessTree& tree,
                                                const std::vector<FailingChain>& chains, const WindowLimits& limits) {
  std::vector<std::unique_ptr<WindowTracker>> trackers;
  trackers.reserve(chains.size());
  for (const auto& chain : chains) trackers.push_back(std::make_unique<WindowTracker>(tree, chain, limits));
  if (!trackers.empty()) {
    while (auto event = reader.next()) {
      if (event->kind != Event::Kind::output) continue;
      for (auto& tracker : trackers) tracker->add(event->output);
    }
  }
  std::vector<FailureOutput> outputs;
  outputs.reserve(trackers.size());
  for (auto& tracker : trackers) outputs.push_back(tracker->take());
  return outputs;
}

}  // namespace jobtape::recorder
