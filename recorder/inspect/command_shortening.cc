#include "recorder/inspect/command_shortening.h"

#include <algorithm>
#include <iterator>

#include "recorder/job_command_line.h"

namespace jobtape::recorder {

namespace {

// Options whose value is the next word (compilers, linkers): folded with it.
constexpr std::string_view kOptionsWithValue[] = {
    "-I", "-D", "-U", "-include", "-imacros", "-isystem", "-iquote", "-idirafter", "-isysroot", "-MF", "-MT", "-MQ",
    "-x", "-Xlinker", "-Xassembler", "-Xpreprocessor", "-Xclang", "-L", "-T", "-z", "-target", "-arch", "--param",
    "-framework", "-imultiarch", "-dumpbase", "-dumpbase-ext", "-dumpdir", "-auxbase", "-auxbase-strip",
};
// Options that say what a compiler does and where the result goes: kept.
constexpr std::string_view kTellingOptions[] = {"-c", "-S", "-E", "-o", "--build", "--target", "-C", "-f", "-R"};

bool foldable(std::string_view word) { return word.size() > 1 && word.front() == '-'; }

bool startsCodePoint(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

std::string joined(const std::vector<std::string>& words, const std::vector<bool>& keep) {
  std::string line;
  bool folded = false;
  for (size_t i = 0; i < words.size(); ++i) {
    if (!keep[i]) {
      if (!folded) line += line.empty() ? "…" : " …";
      folded = true;
      continue;
    }
    folded = false;
    if (!line.empty()) line += ' ';
    line += words[i];
  }
  return line;
}

}  // namespace

size_t displayWidth(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), startsCodePoint));
}

std::string fitWidth(std::string_view text, size_t width) {
  if (displayWidth(text) <= width) return std::string(text);
  if (width == 0) return std::string();
  size_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (startsCodePoint(text[i]) && ++points == width) return std::string(text.substr(0, i)) + "…";
  }
  return std::string(text);
}

std::string shortCommand(const std::vector<std::string>& argv, size_t width,
                         const std::function<std::string(std::string_view)>& escape) {
  if (argv.empty()) return std::string();
  std::vector<std::string> words;
  words.reserve(argv.size());
  for (const auto& arg : argv) words.push_back(escape(shellQuote(arg)));
  std::vector<bool> keep(words.size(), true);
  std::string whole = joined(words, keep);
  if (displayWidth(whole) <= width) return whole;

  std::string_view program = argv.front();
  if (auto slash = program.rfind('/'); slash != std::string_view::npos && slash + 1 < program.size()) {
    words.front() = escape(shellQuote(program.substr(slash + 1)));
  }
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (!foldable(arg)) continue;
    bool telling = std::find(std::begin(kTellingOptions), std::end(kTellingOptions), arg) != std::end(kTellingOptions);
    bool takesValue = std::find(std::begin(kOptionsWithValue), std::end(kOptionsWithValue), arg) != std::end(kOptionsWithValue);
    if (telling) {
      // Its value says where: kept with it.
      continue;
    }
    keep[i] = false;
    if (takesValue && i + 1 < argv.size()) keep[++i] = false;
  }
  return fitWidth(joined(words, keep), width);
}

}  // namespace jobtape::recorder
