#include "tests/cli_failed/failed_builds.h"

#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace jobtape::testing {

namespace fs = std::filesystem;

void writeFile(const fs::path& path, const std::string& text) {
  std::vector<fs::path> missing;
  for (fs::path dir = path.parent_path(); !dir.empty() && !fs::exists(dir); dir = dir.parent_path()) {
    missing.push_back(dir);
  }
  for (auto dir = missing.rbegin(); dir != missing.rend(); ++dir) {
    fs::create_directory(*dir);
    ::chmod(dir->c_str(), 0777);
  }
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void writeMakeProject(const fs::path& dir) {
  writeFile(dir / "Makefile",
            "all: lib app\n"
            "lib:\n\t$(MAKE) -C lib\n"
            "app: lib\n\t$(MAKE) -C app\n"
            ".PHONY: all lib app\n");
  const std::string rules = "CC = cc\nCFLAGS = -O0 -Wall\n%.o: %.c\n\t$(CC) $(CFLAGS) -c $< -o $@\n";
  writeFile(dir / "lib" / "Makefile", "liba.a: one.o two.o three.o\n\tar rcs $@ $^\n" + rules);
  for (const char* name : {"one", "two", "three"}) {
    writeFile(dir / "lib" / (std::string(name) + ".c"), std::string("int ") + name + "(void) { return 1; }\n");
  }
  writeFile(dir / "app" / "Makefile", "app: main.o broken.o\n\tcc -o $@ $^ ../lib/liba.a\n" + rules);
  writeFile(dir / "app" / "main.c", "int one(void);\nint main(void) { return one() - 1; }\n");
  writeFile(dir / "app" / "broken.c", "int broken(void) {\n  return undefined_thing;\n}\n");
}

void writeCmakeProject(const fs::path& dir, bool tests) {
  std::string lists = "cmake_minimum_required(VERSION 3.13)\nproject(demo C)\n"
                      "add_library(util src/util/one.c src/util/two.c)\n";
  writeFile(dir / "src" / "util" / "one.c", "int one(void) { return 1; }\n");
  writeFile(dir / "src" / "util" / "two.c", "int two(void) { return 2; }\n");
  writeFile(dir / "src" / "app" / "main.c", "int one(void);\nint main(void) { return one() - 1; }\n");
  if (tests) {
    lists += "add_executable(passing_test src/app/main.c)\ntarget_link_libraries(passing_test util)\n"
             "add_executable(failing_test src/app/failing.c)\n"
             "enable_testing()\nadd_test(NAME passing COMMAND passing_test)\nadd_test(NAME failing COMMAND failing_test)\n";
    writeFile(dir / "src" / "app" / "failing.c",
              "#include <stdio.h>\nint main(void) { fprintf(stderr, \"expected 3, got 4\\n\"); return 1; }\n");
  } else {
    lists += "add_executable(app src/app/main.c src/app/broken.c)\ntarget_link_libraries(app util)\n";
    writeFile(dir / "src" / "app" / "broken.c", "int broken(void) {\n  return undefined_thing;\n}\n");
  }
  writeFile(dir / "CMakeLists.txt", lists);
}

std::vector<std::string> summaryCommands(const std::string& stderrText) {
  static const std::regex command("^  ((exit \\d+|killed by \\w+)  .*)$");
  std::vector<std::string> commands;
  std::istringstream in(stderrText);
  for (std::string line; std::getline(in, line);) {
    std::smatch match;
    if (std::regex_match(line, match, command)) commands.push_back(match[1]);
  }
  return commands;
}

int suggestedProcess(const std::string& stderrText) {
  static const std::regex see("job debug-shell(?: \\S+)? --process (\\d+)");
  std::smatch match;
  return std::regex_search(stderrText, match, see) ? std::stoi(match[1]) : -1;
}

}  // namespace jobtape::testing
