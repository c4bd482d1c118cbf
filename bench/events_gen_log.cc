// Writes SIZE_MIB MiB of compiler-like log lines to stdout (the input of
// bench/events_vs_zstd.sh).   usage: events_gen_log SIZE_MIB [SEED]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/events_log_lines.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: events_gen_log SIZE_MIB [SEED]\n");
    return 2;
  }
  size_t remaining = std::strtoull(argv[1], nullptr, 10) << 20;
  jobtape::bench::LogLines lines(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 42);
  std::string chunk;
  while (remaining > 0) {
    chunk.clear();
    lines.fill(chunk, std::min<size_t>(remaining, 1 << 20));
    chunk.resize(std::min(chunk.size(), remaining));
    size_t at = 0;
    while (at < chunk.size()) {
      ssize_t n = ::write(STDOUT_FILENO, chunk.data() + at, chunk.size() - at);
      if (n < 0) return 1;
      at += static_cast<size_t>(n);
    }
    remaining -= chunk.size();
  }
  return 0;
}
