// Reads a job's events file, tolerating damage at the end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "recorder/events/event_types.h"
#include "sandbox/run_result.h"

namespace jobtape::recorder {

// The file is not an events file at all (empty, not zstd, not our first
// message, a directory, missing). what() is one line naming the path.
class NotAnEventsFile : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};


class EventReader {
 public:
  // Throws NotAnEventsFile for anything that is not an events file;
  // reads and checks the description. Untrusted input: Cap'n Proto
  // traversal and nesting limits apply.
  static std::unique_ptr<EventReader> open(const std::filesystem::path& path);
  // As open(), but null when there is no file at `path` (nothing was
  // recorded there); every other failure still throws.
  static std::unique_ptr<EventReader> tryOpen(const std::filesystem::path& path);
  // Null for an absent, unreadable or damaged file alike: for the readers
  // that must not fail on a file a job or a crash may have left behind
  // (recovery, best-effort figures) and fall back on the store's row.
  static std::unique_ptr<EventReader> openIfReadable(const std::filesystem::path& path) noexcept;
  virtual ~EventReader() = default;

  virtual const JobDescription& description() const = 0;

  // Next event after the description, or nullopt at the end of what can be
  // read now. With follow=true, waits (inotify or polling) for more data until
  // a jobFinished event arrives or `stopFollowing` returns true.
  virtual std::optional<Event> next() = 0;
  virtual std::optional<Event> nextFollowing(const std::function<bool()>& stopFollowing) = 0;

  // Set once next() returned nullopt because of a damaged/truncated tail
  // (not for a clean end of file, and not for a file still being written
  // whose last frame is simply incomplete when following).
  virtual std::optional<Damage> damage() const = 0;
};

}  // namespace jobtape::recorder
