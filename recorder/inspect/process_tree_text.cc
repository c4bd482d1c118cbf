#include "recorder/inspect/process_tree_text.h"

#include <cstring>
#include <fmt/format.h>

#include "recorder/inspect/command_shortening.h"
#include "recorder/inspect/failed_processes.h"

namespace jobtape::recorder {

namespace {

// PID, START, DURATION and EXIT with the spaces between them.
constexpr size_t kColumnsBeforeCommand = 7 + 1 + 9 + 1 + 9 + 1 + 7 + 1;
constexpr size_t kMinCommandWidth = 30;

std::string seconds(uint64_t ns) { return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9); }

std::string exitColumn(const ProcessNode& node) {
  if (!node.exit) return "-";
  if (!node.exit->statusKnown) return "?";
  if (node.exit->signal) {
    const char* abbrev = sigabbrev_np(node.exit->signal);
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("sig {}", node.exit->signal);
  }
  return std::to_string(node.exit->exitCode);
}

bool failed(const ProcessNode& node) { return node.exit && exitFailed(*node.exit); }

class TreeTable {
 public:
  TreeTable(const ReportStyle& style, const ReportView& view) : style_(style), view_(view) {}

  void row(const ProcessNode& node, const std::string& lead) {
    auto duration = node.durationNs();
    // Padded before it is decorated, so colour codes never shift the columns.
    std::string exit = fmt::format("{:<7}", exitColumn(node));
    if (failed(node) && style_.failure) exit = style_.failure(exit);
    out_ += fmt::format("{:<7} {:>9} {:>9} {} {}{}\n", node.pid, seconds(node.startNs),
                        duration ? seconds(*duration) : "-", exit, lead, command(node.images.front(), lead));
  }

  void execRow(const ProcessImage& image, const std::string& lead) {
    out_ += fmt::format("{:<7} {:>9} {:>9} {:<7} {}  exec {}\n", "", seconds(image.elapsedNs), "", "", lead,
                        command(image, lead + "  exec "));
  }

  std::string take() { return std::move(out_); }

 private:
  std::string command(const ProcessImage& image, const std::string& lead) const {
    std::vector<std::string> argv = image.argv.empty() ? std::vector<std::string>{image.executable} : image.argv;
    size_t used = kColumnsBeforeCommand + displayWidth(lead);
    size_t width = view_.wide ? SIZE_MAX : std::max(view_.width > used ? view_.width - used : 0, kMinCommandWidth);
    return shortCommand(argv, width, style_.escape);
  }

  const ReportStyle& style_;
  const ReportView& view_;
  std::string out_ = fmt::format("{:<7} {:>9} {:>9} {:<7} {}\n", "PID", "START", "DURATION", "EXIT", "COMMAND");
};

}  // namespace

std::string renderProcessTreeText(const ProcessTree& tree, const ReportStyle& style, const ReportView& view,
                                  const std::vector<bool>& shown) {
  auto visible = [&](size_t node) { return shown.empty() || (node < shown.size() && shown[node]); };
  TreeTable table(style, view);
  struct Item {
    size_t node;
    std::string lead;       // drawn before this process's command
    std::string childLead;  // drawn before its children's leads
  };
  std::vector<Item> stack;
  for (auto root = tree.roots.rbegin(); root != tree.roots.rend(); ++root) {
    if (visible(*root)) stack.push_back({*root, "", ""});
  }
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    const ProcessNode& node = tree.nodes[item.node];
    table.row(node, item.lead);
    for (size_t i = 1; i < node.images.size(); ++i) table.execRow(node.images[i], item.childLead);
    std::vector<size_t> children;
    for (size_t child : node.children) {
      if (visible(child)) children.push_back(child);
    }
    for (size_t i = children.size(); i-- > 0;) {
      bool last = i + 1 == children.size();
      stack.push_back({children[i], item.childLead + (last ? "└─ " : "├─ "), item.childLead + (last ? "   " : "│  ")});
    }
  }
  return table.take();
}

std::vector<bool> failingChainNodes(const ProcessTree& tree, const std::optional<JobFinishedEvent>& finished) {
  std::vector<bool> shown(tree.nodes.size(), false);
  for (const auto& chain : findFailingChains(tree, finished)) {
    for (size_t node : chain.chain) shown[node] = true;
    for (size_t node : chain.helpers) shown[node] = true;
  }
  // A failing helper below a process that did not fail (cc1 under an `as`
  // that succeeded) is reached through it.
  for (size_t node = 0; node < tree.nodes.size(); ++node) {
    if (!shown[node]) continue;
    for (auto up = tree.nodes[node].parent; up && !shown[*up]; up = tree.nodes[*up].parent) shown[*up] = true;
  }
  return shown;
}

}  // namespace jobtape::recorder
