#include "recorder/inspect/command_shortening.h"

#include <gtest/gtest.h>

namespace jobtape::recorder {
namespace {

std::string plain(std::string_view text) { return std::string(text); }

TEST(CommandShortening, AShortCommandStaysWhole) {
  EXPECT_EQ(shortCommand({"/usr/bin/cc", "-c", "bad.c", "-o", "bad.o"}, 80, plain), "/usr/bin/cc -c bad.c -o bad.o");
  EXPECT_EQ(shortCommand({"sh", "-c", "exit 3"}, 80, plain), "sh -c 'exit 3'");
}

TEST(CommandShortening, FoldsOptionsAndKeepsWhatItWorksOn) {
  std::vector<std::string> argv = {"/usr/bin/cc", "-DNDEBUG", "-I/src/include", "-I", "/src/gen", "-O2", "-Wall",
                                   "-Wextra", "-MD", "-MT", "bad.o", "-MF", "bad.o.d", "-c", "/src/lib/bad.c",
                                   "-o", "CMakeFiles/demo.dir/lib/bad.c.o"};
  EXPECT_EQ(shortCommand(argv, 70, plain), "cc … -c /src/lib/bad.c -o CMakeFiles/demo.dir/lib/bad.c.o");
}

TEST(CommandShortening, CutsWhatCannotFitEvenFolded) {
  std::vector<std::string> argv = {"cc", "-c", "a-very-long-file-name-that-goes-on-and-on.c"};
  std::string line = shortCommand(argv, 20, plain);
  EXPECT_EQ(displayWidth(line), 20u);
  EXPECT_EQ(line, "cc -c a-very-long-f…");
}

TEST(CommandShortening, EscapesEachWordBeforeMeasuring) {
  auto escape = [](std::string_view text) {
    std::string out;
    for (char c : text) out += c == '\x1b' ? std::string("\\x1b") : std::string(1, c);
    return out;
  };
  EXPECT_EQ(shortCommand({"echo", "\x1b[31mred"}, 80, escape), "echo '\\x1b[31mred'");
}

TEST(CommandShortening, WidthCountsCodePoints) {
  EXPECT_EQ(displayWidth("ü…x"), 3u);
  EXPECT_EQ(fitWidth("üüüüü", 3), "üü…");
  EXPECT_EQ(fitWidth("abc", 3), "abc");
}

}  // namespace
}  // namespace jobtape::recorder
