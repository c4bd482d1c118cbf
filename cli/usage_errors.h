// Bad usage in the words of git, not of the argument parser.
//
// CLI11 reports an unknown command as "A subcommand is required", a bad
// number as "Could not convert: --limit = abc" and an option without its
// value as "--home: 1 required TEXT missing". Before CLI11 parses, the words
// are walked against the command tree (checkWords): the first word that is
// not a command of its group, or an option the command does not have, is
// named with the closest real one. What CLI11 still refuses afterwards is
// translated from its error types (describeParseError). Either way the user
// gets one line and the `--help` of the command they meant.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace jobtape::cli {

struct UsageProblem {
  std::string message;
  std::string hint;
};

// Where the words lead: the deepest command they name ("jobtape job list").
struct WordWalk {
  const CLI::App* command = nullptr;
  std::string path = "jobtape";
  std::optional<UsageProblem> problem;
  bool help = false;                   // `jobtape [--home DIR] help WORDS...`
  std::vector<std::string> helpWords;  // the command to print the help of
};

// `args` without argv[0]. Stops at "--" (what follows belongs to the job).
WordWalk checkWords(const CLI::App& root, const std::vector<std::string>& args);

// One line for what CLI11 refused, for the command the words led to.
UsageProblem describeParseError(const CLI::ParseError& error, const WordWalk& walk);

// `jobtape help [COMMAND...]`: the App whose help to print, or a problem.
WordWalk helpTarget(const CLI::App& root, const std::vector<std::string>& words);

// The candidate closest to `word` by edit distance, if it is close enough to
// be a typo (at most a third of the word, at least 1, at most 3 edits).
std::optional<std::string> closestWord(const std::string& word, const std::vector<std::string>& candidates);

// The help formatter: option values shown as their type ("--limit INT"),
// without CLI11's "Excludes:"/"Needs:" lists (the descriptions say it).
void useQuietHelpFormatter(CLI::App& app);

}  // namespace jobtape::cli
