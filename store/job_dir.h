// Where a job's files are: the one way to turn a job row into a path.
//
// A job's directory is home/jobs/<id>, and nothing read from the database
// chooses another: the id must be a ULID, and a recorded jobs.local_path must
// name that same directory. A job directory (or jobs/ itself) that is a
// symbolic link is not the job's either. Anything else is a damaged row
// (DamagedJobRow): whoever could write the database must not be able to
// point jobtape's reads, binds or deletions anywhere else.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "store/store.h"

namespace jobtape::store {

// The layout of a job's directory, spelled here and nowhere else:
//   events.bin.zst  the job's record (recorder/events/event_writer.cc)
//   state/          the sandbox's writable state (its tmpfs mounts), kept
//                   with a failed job for debug-shell
inline constexpr const char* kEventsFileName = "events.bin.zst";
inline constexpr const char* kStateDirName = "state";
inline std::filesystem::path eventsFileIn(const std::filesystem::path& jobDir) { return jobDir / kEventsFileName; }
inline std::filesystem::path stateDirIn(const std::filesystem::path& jobDir) { return jobDir / kStateDirName; }

// home/jobs/<id>. Throws DamagedJobRow when `id` is not a ULID.
std::filesystem::path jobDirectory(const std::filesystem::path& home, const std::string& id);

// The directory of `row` in `home`, after the checks above. Throws
// DamagedJobRow naming the row and what is wrong with it.
std::filesystem::path jobDirectoryOf(const std::filesystem::path& home, const JobRow& row);

// What is wrong with `row` (one phrase), or nullopt when it is sound.
std::optional<std::string> jobRowDamage(const std::filesystem::path& home, const JobRow& row);

}  // namespace jobtape::store
