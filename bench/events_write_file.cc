// Streams stdin into a new events file as stdout output events, the way the
// supervisor feeds pipe reads to the writer (64 KiB reads by default).
//   usage: events_write_file OUT.bin.zst [CHUNK_BYTES] < input
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <vector>

#include "recorder/events/event_writer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: events_write_file OUT.bin.zst [CHUNK_BYTES] < input\n");
    return 2;
  }
  const size_t chunk = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64 << 10;
  try {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    jobtape::recorder::JobDescription description;
    description.jobId = "01HZX5K3Q8V6W2N4M7P9R1T3Y5";
    description.recipe.command = "make";
    auto writer = jobtape::recorder::EventWriter::create(argv[1], description);
    std::vector<char> buffer(chunk);
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
      if (n < 0) throw std::runtime_error("read from stdin failed");
      if (n == 0) break;
      const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
      writer->output(jobtape::sandbox::Stream::stdout_, static_cast<uint64_t>(elapsed.count()),
                     {buffer.data(), static_cast<size_t>(n)});
    }
    writer->finish({});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "events_write_file: %s\n", e.what());
    return 1;
  }
  return 0;
}
