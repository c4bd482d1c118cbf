// Shared by the fuzz harnesses: fuzz bytes as an events file the reader can
// open by path (a memfd behind /proc/self/fd, so no disk I/O per input), and
// the reader drained the way `job logs` drains it.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "recorder/events/event_reader.h"
#include "sandbox/fd_util.h"

namespace jobtape::fuzz {

// An anonymous regular file holding `bytes`; path() opens it.
class MemoryFile {
 public:
  explicit MemoryFile(std::string_view bytes) : fd_(::memfd_create("jobtape-fuzz", MFD_CLOEXEC)) {
    if (!fd_) std::abort();
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_.get(), bytes.data() + done, bytes.size() - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_.get()); }

 private:
  sandbox::UniqueFd fd_;
};

// Opens and reads every event, as a reader of an untrusted file does. Any
// exception other than NotAnEventsFile escapes: the reader promises that a
// bad file is either refused at open or ends in damage().
inline void readWholeFile(std::string_view bytes) {
  MemoryFile file(bytes);
  std::unique_ptr<recorder::EventReader> reader;
  try {
    reader = recorder::EventReader::open(file.path());
  } catch (const recorder::NotAnEventsFile&) {
    return;
  }
  size_t events = 0;
  while (auto event = reader->next()) ++events;
  (void)reader->description();
  (void)reader->damage();
}

}  // namespace jobtape::fuzz
