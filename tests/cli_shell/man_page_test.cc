// jobtape(1) as man renders it: its sections, and every command and option
// the binary defines (found by walking `jobtape --help` down the command
// tree), so the page cannot miss one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path manPage() {
  const char* path = std::getenv("JOBTAPE_MAN_PAGE");
  return path != nullptr ? fs::path(path) : fs::path();
}

std::string rendered() {
  ProcessOptions options;
  options.env = {{"MANWIDTH", "80"}, {"MANPAGER", "cat"}, {"PAGER", "cat"}, {"MAN_KEEP_FORMATTING", ""}};
  ProcessResult result = runProgram({"/usr/bin/man", "-l", manPage().string()}, options);
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  // Bold and underline as man writes them to a pipe: c\bc and _\bc.
  std::string plain;
  for (size_t i = 0; i < result.out.size(); ++i) {
    if (i + 1 < result.out.size() && result.out[i + 1] == '\b') {
      ++i;
      continue;
    }
    plain += result.out[i];
  }
  return plain;
}

// The commands listed under "Subcommands:" in a --help.
std::vector<std::string> subcommandsIn(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream in(help);
  bool listing = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("SUBCOMMANDS") || line.starts_with("Subcommands")) {
      listing = true;
      continue;
    }
    std::smatch match;
    if (listing && std::regex_match(line, match, std::regex(" +([a-z][a-z-]*)( .*)?"))) {
      names.push_back(match[1]);
    } else if (listing && !line.empty() && line[0] != ' ') {
      listing = false;
    }
  }
  return names;
}

struct Command {
  std::string path;  // "job list"
  bool group = false;  // has commands of its own
  std::vector<std::string> options;  // "--json", from its --help
};

std::vector<std::string> optionsIn(const std::string& help) {
  std::vector<std::string> names;
  std::regex option("(^|[ ,])(--[a-z][a-z-]+)");
  for (std::sregex_iterator it(help.begin(), help.end(), option), end; it != end; ++it) names.push_back((*it)[2]);
  return names;
}

// Every command reachable from the top --help, parents first.
void collectCommands(const fs::path& home, const std::vector<std::string>& path, std::vector<Command>& out) {
  std::vector<std::string> args = path;
  args.push_back("--help");
  ProcessResult help = runJobtape(home, args);
  ASSERT_EQ(help.exitStatus, 0) << help.err;
  std::vector<std::string> names = subcommandsIn(help.out);
  if (!out.empty()) {
    out.back().group = !names.empty();
    out.back().options = optionsIn(help.out);
  }
  for (const std::string& name : names) {
    std::vector<std::string> deeper = path;
    deeper.push_back(name);
    std::string joined;
    for (const std::string& word : deeper) joined += (joined.empty() ? "" : " ") + word;
    out.push_back({joined});
    collectCommands(home, deeper, out);
  }
}

TEST(ManPageTest, HasTheSectionsOfAManual) {
  ASSERT_TRUE(fs::exists(manPage())) << "JOBTAPE_MAN_PAGE: " << manPage();
  std::string page = rendered();
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "SELECTORS", "ENVIRONMENT",
                              "EXIT STATUS", "FILES", "EXAMPLES"}) {
    EXPECT_THAT(page, HasSubstr("\n" + std::string(section) + "\n")) << section;
  }
  EXPECT_THAT(page, HasSubstr("jobtape - record sandboxed build jobs"));
  for (const char* fact : {"JOBTAPE_HOME", "NO_COLOR", "jobtape.db", "events.bin.zst", "128+N"}) {
    EXPECT_THAT(page, HasSubstr(fact));
  }
}

TEST(ManPageTest, NamesEveryCommandTheBinaryDefines) {
  TempDir home;
  std::vector<Command> commands;
  collectCommands(home.path(), {}, commands);
  ASSERT_GE(commands.size(), 15u) << "the walk of --help found too few commands";
  std::string page = rendered();
  for (const Command& command : commands) {
    // Each command has its own subsection, headed with its name; a group
    // (job, build) is in the synopsis.
    if (command.group) {
      EXPECT_THAT(page, HasSubstr("jobtape [--home DIR] " + command.path + " ")) << command.path;
    } else {
      EXPECT_TRUE(std::regex_search(page, std::regex("\n   " + command.path + "\n"))) << "no section for "
                                                                                       << command.path;
    }
    // and so is every option its --help lists.
    for (const std::string& option : command.options) {
      EXPECT_THAT(page, HasSubstr(option)) << command.path << " " << option;
    }
  }
}

}  // namespace
}  // namespace jobtape::testing
