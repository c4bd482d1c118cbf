// renderWhatFailed(): the few lines that tell a person what failed
// (`jobtape run` at the end of a failed job, `job show` at its top).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <jobtape/what_failed.h>

#include "recorder/inspect/command_shortening.h"

namespace jobtape {

namespace {

// Lines of output shown for one process at most, however many fit.
constexpr size_t kMaxExcerptLines = 8;
// Narrower than this, a command is not worth showing.
constexpr size_t kMinCommandWidth = 40;

std::string seconds(std::chrono::nanoseconds ns) {
  return fmt::format("{:.3f}s", static_cast<double>(ns.count()) / 1e9);
}

std::string signalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", signal);
}

// A line that says something went wrong: "error" ("error:", "fatal error",
// "Error 1", "CMake Error at"), "fatal", "fail", "failed" or "failure" as a
// word of its own ("FAILED: x.o", "***Failed", "FAIL: test"), not in an
// option such as -Werror.
bool looksLikeTrouble(std::string_view line) {
  static constexpr std::string_view kWords[] = {"error", "fatal", "failed", "failure", "fail"};
  for (std::string_view word : kWords) {
    for (size_t at = 0; at + word.size() <= line.size(); ++at) {
      if (strncasecmp(line.data() + at, word.data(), word.size()) != 0) continue;
      auto before = static_cast<unsigned char>(at > 0 ? line[at - 1] : ' ');
      auto after = static_cast<unsigned char>(at + word.size() < line.size() ? line[at + word.size()] : ' ');
      if (!std::isalnum(before) && before != '-' && before != '_' && !std::isalnum(after)) return true;
    }
  }
  return false;
}

// One line of an excerpt: from `during` or from `after`.
struct ExcerptLine {
  const OutputLine* line;
  bool after;
};

// What arrived while it ran, then what arrived right after it ended (where
// a build tool that captured its output prints it): read as one, since
// which side of the end a line fell on is a matter of microseconds. From
// the first line that tells of trouble, or else the last lines.
std::vector<ExcerptLine> chooseExcerpt(const FailedProcess& process, size_t budget) {
  std::vector<ExcerptLine> all;
  for (const OutputWindow* window : {&process.during, &process.after}) {
    for (const auto& line : window->lines) all.push_back({&line, window == &process.after});
  }
  size_t count = std::min(budget, all.size());
  auto trouble = std::find_if(all.begin(), all.end(), [](const ExcerptLine& line) {
    return looksLikeTrouble(line.line->text);
  });
  size_t first = trouble == all.end() ? all.size() - count
                                      : std::min(static_cast<size_t>(trouble - all.begin()), all.size() - count);
  return {all.begin() + static_cast<std::ptrdiff_t>(first), all.begin() + static_cast<std::ptrdiff_t>(first + count)};
}

std::string decorate(const std::function<std::string(std::string_view)>& with, std::string_view text) {
  return with ? with(text) : std::string(text);
}

// │ while it ran, alone or its own by name; ┆ while others ran too; ╎ after it ended.
const char* gutter(const ExcerptLine& line) {
  if (line.after) return "╎ ";
  return line.line->alone || line.line->byName ? "│ " : "┆ ";
}

std::string attributionNote(const FailedProcess& process, const std::vector<ExcerptLine>& excerpt) {
  if (excerpt.empty()) return "no output while it ran";
  bool during = std::any_of(excerpt.begin(), excerpt.end(), [](const ExcerptLine& line) { return !line.after; });
  bool after = std::any_of(excerpt.begin(), excerpt.end(), [](const ExcerptLine& line) { return line.after; });
  std::vector<std::string> parts;
  if (during) {
    std::string with = fmt::format("while it ran, with {} other{}", process.concurrentProcesses,
                                   process.concurrentProcesses == 1 ? "" : "s");
    parts.push_back(process.attributed         ? "while it ran alone"
                    : process.attributedByName ? with + "; these lines name its files"
                                               : with + ": ┆ may be theirs");
  }
  if (after) parts.push_back(during ? "╎ right after it ended" : "right after it ended (its build tool's report)");
  std::string note = "output";
  for (size_t i = 0; i < parts.size(); ++i) note += (i == 0 ? " " : "; ") + parts[i];
  return note;
}

class Renderer {
 public:
  explicit Renderer(const WhatFailedTextOptions& options) : options_(options) {}

  std::string render(const WhatFailed& failed) {
    workDir_ = failed.workDir;
    size_t count = failed.processes.size();
    if (count == 0) return {};
    // Each shown process takes its command line, its chain (with
    // options.chains), a note and two lines of output at least; one more
    // line says how many are left out.
    auto overhead = [&](size_t shown) {
      size_t lines = shown < count ? 1 : 0;
      for (size_t i = 0; i < shown; ++i) lines += 2 + chainLines(failed.processes[i]);
      return lines;
    };
    size_t shown = count;
    while (shown > 1 && overhead(shown) + shown * 2 > options_.maxLines) --shown;
    size_t spare = options_.maxLines > overhead(shown) ? options_.maxLines - overhead(shown) : 0;
    size_t perProcess = std::min(kMaxExcerptLines, std::max<size_t>(1, spare / shown));
    for (size_t i = 0; i < shown; ++i) renderProcess(failed.processes[i], perProcess);
    if (shown < count) {
      line(options_.indent + decorate(options_.note, fmt::format("… and {} more failed process{}", count - shown,
                                                               count - shown == 1 ? "" : "es")));
    }
    return std::move(out_);
  }

 private:
  void line(const std::string& text) { out_ += text + "\n"; }

  // The lines renderChain writes: the pid line, one for each process above
  // it, one for each failing helper.
  size_t chainLines(const FailedProcess& process) const {
    if (!options_.chains) return 0;
    return 1 + (process.chain.empty() ? 0 : process.chain.size() - 1) + process.failedHelpers.size();
  }

  // A directory below the job's work dir as ./sub, the work dir as ".".
  std::string place(const std::string& cwd) const {
    if (cwd.empty()) return "?";
    const std::string& top = workDir_;
    if (!top.empty() && cwd == top) return ".";
    if (!top.empty() && top != "/" && cwd.size() > top.size() && cwd.compare(0, top.size(), top) == 0 &&
        cwd[top.size()] == '/') {
      return options_.escape("." + cwd.substr(top.size()));
    }
    return options_.escape(cwd);
  }

  std::string command(const RecordedProcess& process, size_t width) const {
    std::vector<std::string> argv = process.argv.empty() ? std::vector<std::string>{process.executable} : process.argv;
    return recorder::shortCommand(argv, options_.wide ? SIZE_MAX : width, options_.escape);
  }

  void renderProcess(const FailedProcess& process, size_t budget) {
    const RecordedProcess& p = process.process;
    std::string status = processStatusText(p);
    size_t used = options_.indent.size() + status.size() + 2;
    size_t width = std::max(options_.width > used ? options_.width - used : 0, kMinCommandWidth);
    line(options_.indent + decorate(options_.failure, status) + "  " + command(p, width));
    std::string inner = options_.indent + "  ";
    if (options_.chains) renderChain(process, inner);
    std::vector<ExcerptLine> excerpt = chooseExcerpt(process, budget);
    size_t outputWidth = std::max(options_.width > inner.size() + 2 ? options_.width - inner.size() - 2 : 0,
                                  kMinCommandWidth);
    for (const auto& shown : excerpt) {
      std::string text = options_.escape(shown.line->text) + (shown.line->cut ? "…" : "");
      if (!options_.wide) text = recorder::fitWidth(text, outputWidth);
      line(inner + decorate(options_.note, gutter(shown)) + text);
    }
    std::string where = options_.chains ? std::string() : fmt::format(" · pid {} in {}", p.pid, place(p.cwd));
    std::string note = "└ " + attributionNote(process, excerpt) + where;
    if (!options_.wide) note = recorder::fitWidth(note, outputWidth + 2);
    line(inner + decorate(options_.note, note));
  }

  // pid, place and times, what ran it and its failing helpers (job show).
  void renderChain(const FailedProcess& process, const std::string& inner) {
    const RecordedProcess& p = process.process;
    line(inner + fmt::format("pid {}, in {}, started at {}{}", p.pid, place(p.cwd),
                             seconds(p.start), p.duration ? ", took " + seconds(*p.duration) : std::string()));
    size_t width = options_.width > inner.size() + 12 ? options_.width - inner.size() - 12 : kMinCommandWidth;
    for (size_t i = process.chain.size() - 1; i-- > 0;) {
      const RecordedProcess& up = process.chain[i];
      line(inner + fmt::format("{} {} (pid {}, {})", i + 2 == process.chain.size() ? "ran by " : "  under",
                               command(up, width), up.pid, processStatusText(up)));
    }
    for (const auto& helper : process.failedHelpers) {
      line(inner + fmt::format("helper  {} (pid {}, {})", command(helper, width), helper.pid, processStatusText(helper)));
    }
  }

  const WhatFailedTextOptions& options_;
  std::string workDir_;
  std::string out_;
};

}  // namespace

std::string processStatusText(const RecordedProcess& process) {
  if (!process.statusKnown) return process.duration ? "status unknown" : "still running";
  if (process.signal) return "killed by " + signalName(process.signal);
  return fmt::format("exit {}", process.exitCode.value_or(0));
}

std::string renderWhatFailed(const WhatFailed& failed, const WhatFailedTextOptions& options) {
  if (!options.escape) throw Error(Error::Kind::invalidArgument, "renderWhatFailed: options.escape is required");
  return Renderer(options).render(failed);
}

}  // namespace jobtape
