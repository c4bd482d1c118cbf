// Decodes an events file and writes the bytes of its output events to
// stdout (the counterpart of `zstd -dc`).   usage: events_read_file FILE
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <stdexcept>

#include "recorder/events/event_reader.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: events_read_file FILE\n");
    return 2;
  }
  try {
    auto reader = jobtape::recorder::EventReader::open(argv[1]);
    while (auto event = reader->next()) {
      if (event->kind != jobtape::recorder::Event::Kind::output) continue;
      const std::string& bytes = event->output.bytes;
      size_t at = 0;
      while (at < bytes.size()) {
        ssize_t n = ::write(STDOUT_FILENO, bytes.data() + at, bytes.size() - at);
        if (n < 0) throw std::runtime_error("write to stdout failed");
        at += static_cast<size_t>(n);
      }
    }
    if (auto damage = reader->damage()) {
      std::fprintf(stderr, "events_read_file: stopped at byte %llu: %s\n",
                   static_cast<unsigned long long>(damage->offset), damage->reason.c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "events_read_file: %s\n", e.what());
    return 1;
  }
  return 0;
}
