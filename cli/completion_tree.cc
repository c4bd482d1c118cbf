#include "cli/completion_tree.h"

#include <CLI/CLI.hpp>

namespace jobtape::cli {

namespace {

std::vector<CLI::App*> visibleCommands(const CLI::App& group) {
  std::vector<CLI::App*> visible;
  for (CLI::App* sub : const_cast<CLI::App&>(group).get_subcommands([](CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) visible.push_back(sub);
  }
  return visible;
}

std::string oneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return text;
}

// "text|json|cast" as a value's type name is the list of its values.
std::vector<std::string> fixedValues(const std::string& typeName) {
  if (typeName.find('|') == std::string::npos) return {};
  std::vector<std::string> values;
  size_t start = 0;
  while (start <= typeName.size()) {
    size_t bar = typeName.find('|', start);
    if (bar == std::string::npos) bar = typeName.size();
    values.push_back(typeName.substr(start, bar - start));
    start = bar + 1;
  }
  return values;
}

CompletionOption describeOption(const CLI::Option& option) {
  CompletionOption described;
  for (const std::string& name : option.get_lnames()) described.names.push_back("--" + name);
  for (const std::string& name : option.get_snames()) described.names.push_back("-" + name);
  described.description = oneLine(option.get_description());
  described.takesValue = option.get_items_expected_max() > 0;
  described.values = fixedValues(option.get_type_name());
  return described;
}

void addCommand(const CLI::App& command, const std::string& path, std::vector<CompletionCommand>& tree) {
  CompletionCommand described;
  described.path = path;
  described.description = oneLine(command.get_description());
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_positional()) {
      if (option->get_type_name() == "SEL") described.takesJobSelector = true;
      continue;
    }
    described.options.push_back(describeOption(*option));
  }
  std::vector<CLI::App*> subs = visibleCommands(command);
  for (const CLI::App* sub : subs) described.subcommands.push_back(sub->get_name());
  if (path.empty()) described.subcommands.push_back("help");
  tree.push_back(std::move(described));
  for (const CLI::App* sub : subs) {
    addCommand(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), tree);
  }
}

}  // namespace

std::vector<CompletionCommand> completionTree(const CLI::App& root) {
  std::vector<CompletionCommand> tree;
  addCommand(root, "", tree);
  return tree;
}

std::vector<std::string> visibleCommandNames(const CLI::App& group) {
  std::vector<std::string> names;
  for (const CLI::App* sub : visibleCommands(group)) names.push_back(sub->get_name());
  return names;
}

}  // namespace jobtape::cli
