#include "cli/cli_support.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>

#include "cli/cli_error.h"
#include "recorder/job_command_line.h"
#include "store/home_safety.h"

namespace jobtape::cli {

std::unique_ptr<store::Store> openStore(const CliContext& context) {
  auto home = store::resolveHome(context.home);
  try {
    return store::Store::open(home);
  } catch (const store::StoreUnsafeError& error) {
    throw CliError(escapeControl(error.what()), escapeControl(error.hint()));
  } catch (const store::StoreOpenError& error) {
    throw CliError(error.what(), "move the file away or pass --home DIR to use another store");
  }
}

std::unique_ptr<store::Store> openExistingStore(const CliContext& context) {
  auto home = store::resolveHome(context.home);
  try {
    return store::Store::openReadOnlyIfExists(home);
  } catch (const store::StoreUnsafeError& error) {
    throw CliError(escapeControl(error.what()), escapeControl(error.hint()));
  } catch (const store::StoreOpenError& error) {
    throw CliError(error.what(), "move the file away or pass --home DIR to use another store");
  }
}

void refuseForeignHome(const CliContext& context) {
  auto home = store::resolveHome(context.home);
  std::error_code ec;
  if (!std::filesystem::is_directory(home, ec) || std::filesystem::is_empty(home, ec)) return;
  if (std::filesystem::exists(home / store::kDatabaseName, ec)) return;
  throw CliError(fmt::format("{} is not a jobtape store (it has files but no {})", escapeControl(home.string()),
                             store::kDatabaseName),
                 "pass --home DIR or set JOBTAPE_HOME to the store's directory");
}

store::Selection resolveJob(store::Store* store, const std::optional<std::string>& selector) {
  try {
    return store::resolveSelector(store, selector);
  } catch (const store::SelectorError& error) {
    std::string message = error.what();
    auto newline = message.find('\n');
    if (newline == std::string::npos) throw CliError(message, "see 'jobtape job list'");
    // git style: the error line, then the candidates.
    std::string first = message.substr(0, newline);
    std::cerr << "jobtape: error: " << first << '\n' << message.substr(newline + 1);
    if (message.back() != '\n') std::cerr << '\n';
    throw CliError(first, "", 1);
  }
}

std::string formatDuration(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  int64_t seconds = ms / 1000;
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60);
}

std::string formatRelative(int64_t unixMs, int64_t nowMs) {
  int64_t seconds = (nowMs - unixMs) / 1000;
  if (seconds < 10) return "just now";
  if (seconds < 60) return fmt::format("{} s ago", seconds);
  if (seconds < 3600) return fmt::format("{} min ago", seconds / 60);
  if (seconds < 86400) return fmt::format("{} h ago", seconds / 3600);
  return fmt::format("{} d ago", seconds / 86400);
}

std::string formatTimestamp(int64_t unixMs) {
  std::time_t seconds = static_cast<std::time_t>(unixMs / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &local);
  return buffer;
}

int64_t nowUnixMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

// Length of the valid UTF-8 sequence at text[i], or 0.
size_t utf8Length(std::string_view text, size_t i) {
  auto byte = static_cast<unsigned char>(text[i]);
  size_t length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

std::string escapeControl(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = utf8Length(text, i);
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    if (byte == '\n') out += "\\n";
    else if (byte == '\t') out += "\\t";
    else if (byte == '\r') out += "\\r";
    else if (byte < 0x20 || byte == 0x7F || length == 0) out += fmt::format("\\x{:02x}", byte);
    else out += static_cast<char>(byte);
    ++i;
  }
  return out;
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

Colour statusColour(store::JobStatus status) {
  switch (status) {
    case store::JobStatus::succeeded: return Colour::green;
    case store::JobStatus::failed: return Colour::red;
    case store::JobStatus::abandoned: return Colour::yellow;
    case store::JobStatus::running: return Colour::blue;
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
  std::string logs = context.home ? fmt::format("jobtape --home {} job logs", recorder::shellQuote(context.home->string()))
                                  : std::string("jobtape job logs");
  return fmt::format("jobtape: job {} failed ({}); see: {}{}", shortId, escapeControl(failureReason(result)), logs,
                     withSelector ? " " + shortId : "");
}

}  // namespace jobtape::cli
