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

// An error message's line: "error" as a word of its own ("error:", "fatal
// error", "Error 1", "CMake Error at"), not an option such as -Werror.
bool looksLikeError(std::string_view line) {
  for (size_t at = 0; at + 5 <= line.size(); ++at) {
    if (strncasecmp(line.data() + at, "error", 5) != 0) continue;
    auto before = static_cast<unsigned char>(at > 0 ? line[at - 1] : ' ');
    auto after = static_cast<unsigned char>(at + 5 < line.size() ? line[at + 5] : ' ');
    if (!std::isalnum(before) && before != '-' && before != '_' && !std::isalnum(after)) return true;
  }
  return false;
}

struct Excerpt {
  const OutputWindow* window = nullptr;
  size_t first = 0;  // in window->lines
  size_t count = 0;
  bool after = false;  // from the `after` window
};

// Of what arrived while it ran, the last `budget` lines, or the lines from
// its first error line when that comes before them. Of what arrived after
// it ended (a build tool's report of it), the first lines, or again those
// from its first error line when that comes later.
Excerpt chooseExcerpt(const FailedProcess& process, size_t budget) {
  Excerpt excerpt;
  excerpt.after = process.during.lines.empty() && !process.after.lines.empty();
  excerpt.window = excerpt.after ? &process.after : &process.during;
  const auto& lines = excerpt.window->lines;
  size_t n = lines.size();
  excerpt.count = std::min(budget, n);
  excerpt.first = excerpt.after ? 0 : n - excerpt.count;
  auto found = std::find_if(lines.begin(), lines.end(), [](const OutputLine& line) { return looksLikeError(line.text); });
  size_t error = static_cast<size_t>(found - lines.begin());
  if (found != lines.end() && (excerpt.after ? error >= excerpt.count : error < excerpt.first)) {
    excerpt.first = std::min(error, n - excerpt.count);
  }
  return excerpt;
}

std::string decorate(const std::function<std::string(std::string_view)>& with, std::string_view text) {
  return with ? with(text) : std::string(text);
}

std::string attributionNote(const FailedProcess& process, const Excerpt& excerpt) {
  if (excerpt.count == 0) return "no output while it ran";
  if (excerpt.after) return "output right after it ended: its build tool's report";
  if (process.attributed) return "output while it ran, nothing else running";
  std::string beside = fmt::format("output while it ran beside {} other process{}", process.concurrentProcesses,
                                   process.concurrentProcesses == 1 ? "" : "es");
  if (process.attributedByName) return beside + "; these lines name its files";
  return beside + ": ┆ lines may be theirs";
}

class Renderer {
 public:
  explicit Renderer(const WhatFailedTextOptions& options) : options_(options) {}

  std::string render(const WhatFailed& failed) {
    size_t count = failed.processes.size();
    if (count == 0) return {};
    // Each shown process takes its command line, a note and two lines of
    // output at least; one more line says how many are left out.
    auto overhead = [count](size_t shown) { return shown * 2 + (shown < count ? 1 : 0); };
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
    Excerpt excerpt = chooseExcerpt(process, budget);
    const auto& lines = excerpt.window->lines;
    size_t outputWidth = std::max(options_.width > inner.size() + 2 ? options_.width - inner.size() - 2 : 0,
                                  kMinCommandWidth);
    for (size_t i = excerpt.first; i < excerpt.first + excerpt.count; ++i) {
      if (i == excerpt.window->omittedAt && excerpt.window->omitted && i != excerpt.first) {
        line(inner + decorate(options_.note, fmt::format("┆ … {} lines left out", excerpt.window->omitted)));
      }
      std::string text = options_.escape(lines[i].text) + (lines[i].cut ? "…" : "");
      if (!options_.wide) text = recorder::fitWidth(text, outputWidth);
      line(inner + decorate(options_.note, lines[i].alone || lines[i].byName || excerpt.after ? "│ " : "┆ ") + text);
    }
    std::string where = options_.chains ? std::string()
                                        : fmt::format("pid {} in {} · ", p.pid, options_.escape(p.cwd.empty() ? "?" : p.cwd));
    std::string note = "└ " + where + attributionNote(process, excerpt);
    if (!options_.wide) note = recorder::fitWidth(note, outputWidth + 2);
    line(inner + decorate(options_.note, note));
  }

  // pid, place and times, what ran it and its failing helpers (job show).
  void renderChain(const FailedProcess& process, const std::string& inner) {
    const RecordedProcess& p = process.process;
    line(inner + fmt::format("pid {}, in {}, started at {}{}", p.pid, options_.escape(p.cwd.empty() ? "?" : p.cwd),
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
