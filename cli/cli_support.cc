#include "cli/cli_support.h"

#include <chrono>
#include <fmt/format.h>
#include <iostream>

#include "cli/cli_error.h"

namespace jobtape::cli {

std::unique_ptr<Home> openHome(const CliContext& context, bool refuseForeign) {
  try {
    return Home::open({context.home, refuseForeign});
  } catch (const HomeError& error) {
    switch (error.reason()) {
      case HomeError::Reason::unsafe:
      case HomeError::Reason::damaged: throw CliError(escapeControl(error.what()), escapeControl(error.hint()));
      case HomeError::Reason::notAStore:
        throw CliError(escapeControl(error.what()), "pass --home DIR or set JOBTAPE_HOME to the store's directory");
      case HomeError::Reason::unusable: break;
    }
    throw CliError(error.what(), "move the file away or pass --home DIR to use another store");
  }
}

void throwSelectorError(const SelectorError& error, const std::string& listCommand) {
  if (error.candidates().empty()) throw CliError(error.what(), "see '" + listCommand + "'");
  // git style: the error line, then the candidates.
  std::cerr << "jobtape: error: " << error.what() << '\n';
  for (const auto& line : error.candidates()) std::cerr << line << '\n';
  throw CliError(error.what(), "", 1);
}

SelectedJob resolveJob(Home& home, const std::optional<std::string>& selector) {
  try {
    return home.selectJob(selector);
  } catch (const SelectorError& error) {
    throwSelectorError(error, "jobtape job list");
  }
}

SelectedJob resolveJobToFollow(Home& home, const std::optional<std::string>& selector) {
  try {
    return home.selectJobToFollow(selector);
  } catch (const SelectorError& error) {
    throwSelectorError(error, "jobtape job list");
  }
}

std::string formatRelative(int64_t unixMs, int64_t nowMs) {
  int64_t seconds = (nowMs - unixMs) / 1000;
  if (seconds < 10) return "just now";
  if (seconds < 60) return fmt::format("{} s ago", seconds);
  if (seconds < 3600) return fmt::format("{} min ago", seconds / 60);
  if (seconds < 86400) return fmt::format("{} h ago", seconds / 3600);
  return fmt::format("{} d ago", seconds / 86400);
}

int64_t nowUnixMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string colourize(const CliContext& context, Colour colour, std::string_view text) {
  if (!context.colour || colour == Colour::none) return std::string(text);
  const char* code = "";
  switch (colour) {
    case Colour::red: code = "31"; break;
    case Colour::green: code = "32"; break;
    case Colour::yellow: code = "33"; break;
    case Colour::blue: code = "34"; break;
    case Colour::dim: code = "2"; break;
    case Colour::bold: code = "1"; break;
    case Colour::none: break;
  }
  return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
}

Colour statusColour(JobStatus status) {
  switch (status) {
    case JobStatus::succeeded: return Colour::green;
    case JobStatus::failed: return Colour::red;
    case JobStatus::abandoned: return Colour::yellow;
    case JobStatus::running: return Colour::blue;
  }
  return Colour::none;
}

std::string failureReason(const JobResult& result) {
  const char* name = result.signal > 0 ? sigabbrev_np(result.signal) : nullptr;
  std::string signal = name ? fmt::format("SIG{}", name) : fmt::format("signal {}", result.signal);
  switch (result.outcome) {
    case Outcome::exited: return fmt::format("exit {}", result.exitCode);
    case Outcome::signaled: return fmt::format("killed by {}", signal);
    case Outcome::cancelled: return fmt::format("stopped by {}", signal);
    case Outcome::timedOut:
    case Outcome::commandNotFound:
    case Outcome::notExecutable:
    case Outcome::seccompViolation:
    case Outcome::setupFailed: return result.message.empty() ? outcomeName(result.outcome) : result.message;
  }
  return result.message;
}

std::string failureHintLine(const CliContext& context, const std::string& shortId, const JobResult& result,
                            bool withSelector) {
  std::string logs = context.home ? fmt::format("jobtape --home {} job logs", shellQuote(context.home->string()))
                                  : std::string("jobtape job logs");
  return fmt::format("jobtape: job {} failed ({}); see: {}{}", shortId, escapeControl(failureReason(result)), logs,
                     withSelector ? " " + shortId : "");
}

}  // namespace jobtape::cli
