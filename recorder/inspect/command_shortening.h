// A command on one line of a given width, for people: the program by its
// base name and the words that say what it works on (operands, -c, -o FILE),
// with runs of other options (-I, -D, -W, -f, ...) folded into "…".
//   /usr/bin/cc -DNDEBUG -I/src/include -O2 -Wall -c /src/lib/bad.c -o bad.o
//   -> cc … -c /src/lib/bad.c -o bad.o
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace jobtape::recorder {

// Each word is shell-quoted as needed and passed through `escape` (which
// makes recorded bytes safe to show) before it is measured. A command that
// fits is shown whole; one that cannot fit even folded is cut with "…".
// Width is counted in code points.
std::string shortCommand(const std::vector<std::string>& argv, size_t width,
                         const std::function<std::string(std::string_view)>& escape);

// Code points of UTF-8 text, as a stand-in for its width on a terminal.
size_t displayWidth(std::string_view text);
// Cut to `width` code points, the cut marked with "…".
std::string fitWidth(std::string_view text, size_t width);

}  // namespace jobtape::recorder
