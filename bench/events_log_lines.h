// Deterministic compiler-like log lines (ninja -v command lines, warnings
// with source excerpts, include chains) for the events file benchmarks: the
// kind of output the events file mostly holds, with realistic redundancy.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace jobtape::bench {

class LogLines {
 public:
  explicit LogLines(uint64_t seed = 42) : state_(seed) {}

  // Appends lines to `out` until it holds at least `bytes` bytes.
  void fill(std::string& out, size_t bytes) {
    while (out.size() < bytes) appendLine(out);
  }

 private:
  static constexpr const char* kModules[] = {
      "base", "net", "storage", "render", "ui", "crypto", "sql", "json", "http", "cache",
      "sched", "ipc", "fs", "audio", "video", "text", "math", "log", "cli", "test"};
  static constexpr const char* kWords[] = {
      "buffer", "parser", "stream", "handle", "queue", "table", "index", "writer", "reader",
      "client", "server", "worker", "policy", "matrix", "vector", "config", "record", "cursor"};
  static constexpr const char* kCode[] = {
      "int result = compute(input, options);", "auto it = table.find(key);",
      "if (status != Status::ok) return status;", "for (size_t i = 0; i < count; ++i) {",
      "std::string name = prefix + suffix;", "return std::make_unique<Impl>(std::move(config));"};

  uint32_t random() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state_ >> 33);
  }
  template <size_t N>
  const char* pick(const char* const (&list)[N]) {
    return list[random() % N];
  }

  void appendLine(std::string& out) {
    char line[512];
    const char* module = pick(kModules);
    const char* a = pick(kWords);
    const char* b = pick(kWords);
    const unsigned n = random() % 100;
    int len;
    ++step_;
    if (n < 55) {
      len = std::snprintf(line, sizeof line,
                          "[%u/%u] /usr/bin/c++ -DNDEBUG -D_GNU_SOURCE -I../src -Isrc/gen -O2 -g "
                          "-fPIC -Wall -Wextra -std=c++20 -MD -MT obj/%s/%s_%s.o -MF "
                          "obj/%s/%s_%s.o.d -o obj/%s/%s_%s.o -c ../src/%s/%s_%s.cc\n",
                          step_, 48211u, module, a, b, module, a, b, module, a, b, module, a, b);
    } else if (n < 70) {
      len = std::snprintf(line, sizeof line,
                          "../src/%s/%s_%s.cc:%u:%u: warning: unused variable '%s%u' "
                          "[-Wunused-variable]\n",
                          module, a, b, random() % 900 + 10, random() % 40 + 1, b, random() % 64);
    } else if (n < 82) {
      len = std::snprintf(line, sizeof line, "  %4u |   %s\n", random() % 900 + 10, pick(kCode));
    } else if (n < 90) {
      len = std::snprintf(line, sizeof line, "       |       ^~~~~~\n");
    } else if (n < 96) {
      len = std::snprintf(line, sizeof line, "In file included from ../src/%s/%s.h:%u,\n", module,
                          a, random() % 80 + 1);
    } else {
      len = std::snprintf(line, sizeof line,
                          "../src/%s/%s.h:%u:%u: note: candidate: 'void %s::%s::reset(%s&)'\n",
                          module, b, random() % 300 + 1, random() % 30 + 1, module, a, b);
    }
    out.append(line, static_cast<size_t>(len));
  }

  uint64_t state_;
  unsigned step_ = 0;
};

}  // namespace jobtape::bench
