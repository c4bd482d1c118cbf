// Text for people, as jobtape writes it: recorded strings made safe for a
// terminal, durations, times and copy-pasteable command lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jobtape {

// Control characters and invalid UTF-8 as \n, \t, \x1b...: safe on a
// terminal. Everything a job, a recipe or the store says passes through it
// before a person sees it.
std::string escapeControl(std::string_view text);
// "850ms", "1.2s", "3m04s", "1h02m"
std::string formatDuration(int64_t milliseconds);
// Local time "2026-11-22 14:03:07"
std::string formatTimestamp(int64_t unixMs);
// Quotes `word` for a POSIX shell only when it needs it: make, 'a b', 'it'\''s'.
std::string shellQuote(std::string_view word);
// The command and its arguments, each quoted as needed: one line to paste.
std::string displayCommand(const std::string& command, const std::vector<std::string>& args);

}  // namespace jobtape
