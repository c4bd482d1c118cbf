// One-line, copy-pasteable renderings of a command for listings and rows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jobtape::recorder {

// Quotes `word` for a POSIX shell only when it needs it: make, 'a b', 'it'\''s'.
std::string shellQuote(std::string_view word);
// command and args joined by spaces, each quoted as needed.
std::string displayCommand(const std::string& command, const std::vector<std::string>& args);

}  // namespace jobtape::recorder
