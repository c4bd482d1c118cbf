#include "cli/usage_errors.h"

#include "cli/completion_tree.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <sstream>

namespace jobtape::cli {

namespace {

// Edits (insert, delete, substitute, swap two neighbours) from a to b: a
// swap is one typo ("shwo"), as git counts it.
size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// Hidden commands are left out of what is offered (they are still found).
std::vector<std::string> commandNames(const CLI::App& group) { return visibleCommandNames(group); }

const CLI::App* findCommand(const CLI::App& group, const std::string& word) {
  for (const CLI::App* sub : const_cast<CLI::App&>(group).get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == word) return sub;
  }
  return nullptr;
}

bool isGroup(const CLI::App& app) { return !commandNames(app).empty(); }

std::vector<std::string> optionNames(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

const CLI::Option* findOption(const CLI::App& command, const std::string& name) {
  for (const CLI::Option* option : command.get_options()) {
    if (!option->get_positional() && option->check_name(name)) return option;
  }
  return nullptr;
}

std::string words(const std::vector<std::string>& list) {
  std::string joined;
  for (const std::string& word : list) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

std::string seeHelp(const std::string& path) { return "see '" + path + " --help'"; }

UsageProblem unknownCommand(const std::string& word, const CLI::App& group, const std::string& path) {
  UsageProblem problem{"unknown command '" + word + "' for '" + path + "'", seeHelp(path)};
  if (std::optional<std::string> close = closestWord(word, commandNames(group))) {
    problem.hint = "did you mean '" + *close + "'? " + problem.hint;
  }
  return problem;
}

UsageProblem unknownOption(const std::string& name, const CLI::App& command, const std::string& path) {
  UsageProblem problem{"unknown option '" + name + "' for '" + path + "'", seeHelp(path)};
  // An option of a command above this one (jobtape --home DIR) goes before
  // the commands below it, as git -C does.
  std::vector<std::string> below = {command.get_name()};
  for (const CLI::App* above = command.get_parent(); above != nullptr; above = above->get_parent()) {
    if (findOption(*above, name) != nullptr) {
      std::string abovePath = path.substr(0, path.size() - words(below).size() - 1);
      problem.hint = "it is an option of '" + abovePath + "': put it before the command, e.g. '" + abovePath + " " +
                     name + " … " + words(below) + "'";
      return problem;
    }
    below.insert(below.begin(), above->get_name());
  }
  if (std::optional<std::string> close = closestWord(name, optionNames(command))) {
    problem.hint = "did you mean '" + *close + "'? " + problem.hint;
  }
  return problem;
}

// How many of the following words an option takes as its values.
size_t valuesTaken(const CLI::Option& option, const std::vector<std::string>& args, size_t next) {
  int most = option.get_items_expected_max();  // 0 for a flag
  size_t taken = 0;
  while (next + taken < args.size() && static_cast<int>(taken) < most) {
    const std::string& word = args[next + taken];
    if (taken > 0 && (word.starts_with("-") || word.empty())) break;
    ++taken;
  }
  return taken;
}

std::string groupNeedsCommand(const CLI::App& group, const std::string& path) {
  std::string names;
  for (const std::string& name : commandNames(group)) names += (names.empty() ? "" : ", ") + name;
  return "'" + path + "' needs a command: " + names;
}

// CLI11 converts only the options declared with a number type (the others
// are text that the command checks itself), so a failed conversion is a
// number that was not one.
std::string wantedNumber(const CLI::Option* option, const std::string& name) {
  std::string type = option != nullptr ? option->get_type_name() : "";
  std::string example = type.empty() || type == "N" || type == "INT" ? "20" : type;
  return "a number (e.g. " + name + " " + example + ")";
}

// "Could not convert: --limit = abc" -> {"--limit", "abc"}.
std::pair<std::string, std::string> convertedOption(const std::string& what) {
  const std::string prefix = "Could not convert: ";
  std::string rest = what.starts_with(prefix) ? what.substr(prefix.size()) : what;
  size_t equals = rest.find(" = ");
  if (equals == std::string::npos) return {rest, ""};
  return {rest.substr(0, equals), rest.substr(equals + 3)};
}

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

class QuietFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* option) const override {
    if (option->get_type_size() == 0 || option->get_type_name().empty()) return "";
    std::string text = " " + option->get_type_name();
    if (option->get_expected_max() == CLI::detail::expected_max_vector_size) text += " ...";
    return text;
  }
};

}  // namespace

std::optional<std::string> closestWord(const std::string& word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t bestDistance = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3));
  for (const std::string& candidate : candidates) {
    size_t distance = editDistance(word, candidate);
    bool prefix = word.size() >= 3 && candidate.starts_with(word);
    if (prefix) distance = std::min<size_t>(distance, 1);
    if (distance <= bestDistance && (!best || distance < editDistance(word, *best))) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

WordWalk checkWords(const CLI::App& root, const std::vector<std::string>& args) {
  WordWalk walk;
  walk.command = &root;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") break;
    if (word.size() > 1 && word[0] == '-' && !(word[1] >= '0' && word[1] <= '9')) {
      std::string name = word.substr(0, word.find('='));
      const CLI::Option* option = findOption(*walk.command, name);
      if (option == nullptr) {
        walk.problem = unknownOption(name, *walk.command, walk.path);
        return walk;
      }
      if (name.size() == word.size()) i += valuesTaken(*option, args, i + 1);
      continue;
    }
    if (!isGroup(*walk.command)) continue;  // a positional of a command: CLI11 checks it
    if (walk.command == &root && word == "help") {
      walk.help = true;
      walk.helpWords.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      return walk;
    }
    const CLI::App* sub = findCommand(*walk.command, word);
    if (sub == nullptr) {
      walk.problem = unknownCommand(word, *walk.command, walk.path);
      return walk;
    }
    walk.command = sub;
    walk.path += " " + word;
  }
  return walk;
}

WordWalk helpTarget(const CLI::App& root, const std::vector<std::string>& words) {
  WordWalk walk;
  walk.command = &root;
  for (const std::string& word : words) {
    const CLI::App* sub = isGroup(*walk.command) ? findCommand(*walk.command, word) : nullptr;
    if (sub == nullptr) {
      walk.problem = unknownCommand(word, *walk.command, walk.path);
      walk.problem->hint = "see 'jobtape help'";
      if (std::optional<std::string> close = closestWord(word, commandNames(*walk.command))) {
        walk.problem->hint = "did you mean '" + *close + "'? see 'jobtape help'";
      }
      return walk;
    }
    walk.command = sub;
    walk.path += " " + word;
  }
  return walk;
}

UsageProblem describeParseError(const CLI::ParseError& error, const WordWalk& walk) {
  const std::string hint = seeHelp(walk.path);
  const std::string what = error.what();
  if (dynamic_cast<const CLI::ConversionError*>(&error) != nullptr) {
    auto [name, value] = convertedOption(what);
    const CLI::Option* option = walk.command != nullptr ? findOption(*walk.command, name) : nullptr;
    return {"option '" + name + "' wants " + wantedNumber(option, name) + ", not '" + value + "'", hint};
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) != nullptr) {
    std::string name = what.substr(0, what.find(':'));
    return {"option '" + name + "' needs a value", hint};
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    std::string extra = what.substr(what.find(':') == std::string::npos ? 0 : what.find(':') + 2);
    return {"unexpected argument '" + firstLine(extra) + "' for '" + walk.path + "'", hint};
  }
  if (dynamic_cast<const CLI::RequiredError*>(&error) != nullptr && walk.command != nullptr &&
      isGroup(*walk.command)) {
    return {groupNeedsCommand(*walk.command, walk.path), hint};
  }
  return {firstLine(what), hint};
}

void useQuietHelpFormatter(CLI::App& app) { app.formatter(std::make_shared<QuietFormatter>()); }

}  // namespace jobtape::cli
