#include "recorder/job_command_line.h"

namespace jobtape {

std::string shellQuote(std::string_view word) {
  if (word.empty()) return "''";
  bool plain = true;
  for (char c : word) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
    if (!safe) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(word);
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

std::string displayCommand(const std::string& command, const std::vector<std::string>& args) {
  std::string line = shellQuote(command);
  for (const auto& arg : args) {
    line += ' ';
    line += shellQuote(arg);
  }
  return line;
}

}  // namespace jobtape
