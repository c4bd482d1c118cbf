#include "cli/job_selection.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "store/job_dir.h"

namespace jobtape::cli {

namespace fs = std::filesystem;

void addSelector(CLI::App& command, const std::shared_ptr<SelectorArg>& selector) {
  command
      .add_option_function<std::string>(
          "selector", [selector](const std::string& text) { selector->value = text; },
          "The job: failed (default), last, -N, an id or recipe-hash prefix, a pid, an events file, "
          "or job:X / recipe:X / pid:N")
      ->type_name("SEL");
  command.allow_extras();
}

void takeSelectorFromExtras(CLI::App& command, SelectorArg& selector) {
  std::vector<std::string> extras = command.remaining();
  for (const auto& extra : extras) {
    if (extra == "--") continue;  // CLI11 keeps the marker among the extras
    bool nth = extra.size() > 1 && extra[0] == '-' &&
               std::all_of(extra.begin() + 1, extra.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!nth) {
      throw usageError(fmt::format("unknown argument '{}'", escapeControl(extra)),
                       "see 'jobtape job " + command.get_name() + " --help'");
    }
    if (selector.value) {
      throw usageError("more than one job selector given", "give one selector, e.g. 'last' or '-2'");
    }
    selector.value = extra;
  }
}

void warn(const std::string& message) { std::fprintf(stderr, "jobtape: warning: %s\n", message.c_str()); }

void reapQuietly(store::Store* store) {
  if (!store) return;
  // A busy or read-only database cannot mark jobs abandoned now; the
  // answer is still worth giving.
  try {
    store->reapAbandoned();
  } catch (const std::exception&) {
  }
}

fs::path jobDirOf(store::Store& store, const store::JobRow& row) {
  try {
    return store.jobDirOf(row);
  } catch (const store::DamagedJobRow& damaged) {
    throw CliError(escapeControl(damaged.what()),
                   "jobtape uses no file through it; 'jobtape gc' removes such a row once it is old enough");
  }
}

std::vector<store::JobRow> withoutDamagedRows(store::Store& store, std::vector<store::JobRow> rows) {
  std::erase_if(rows, [&store](const store::JobRow& row) {
    auto damage = store::jobRowDamage(store.home(), row);
    if (damage) warn(escapeControl(fmt::format("skipped a damaged job row: {}", *damage)));
    return damage.has_value();
  });
  return rows;
}

recorder::JobPaths jobPathsOf(store::Store& store, const store::JobRow& row) {
  fs::path dir = jobDirOf(store, row);
  recorder::JobPaths paths{store.shortestUniquePrefix(row.id), (dir / store::kEventsFileName).string(), std::nullopt};
  std::error_code ec;
  if (fs::is_directory(dir / store::kStateDirName, ec)) paths.stateDir = (dir / store::kStateDirName).string();
  return paths;
}

Target resolveTarget(store::Store* store, const std::optional<std::string>& selector) {
  store::Selection selection = resolveJob(store, selector);
  if (auto* file = std::get_if<store::EventsFileSelection>(&selection)) return {std::nullopt, file->path};
  auto& row = std::get<store::JobRow>(selection);
  fs::path events = jobDirOf(*store, row) / store::kEventsFileName;
  return {row, events};
}

std::unique_ptr<recorder::EventReader> openEvents(const Target& target) {
  bool young = target.row && target.row->status == store::JobStatus::running;
  for (int attempt = 0;; ++attempt) {
    try {
      return recorder::EventReader::open(target.eventsFile);
    } catch (const recorder::NotAnEventsFile& error) {
      if (young && attempt < 30) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (target.row && !fs::exists(target.eventsFile)) {
        throw CliError(fmt::format("the events file of job {} is gone: {}", target.row->id,
                                   escapeControl(target.eventsFile.string())),
                       "it was removed (jobtape gc?); 'jobtape job show' still has its summary");
      }
      throw CliError(escapeControl(error.what()), "pass a job selector or the path of an events.bin.zst");
    }
  }
}

bool stillRunning(store::Store* store, const Target& target, const std::string& jobId) {
  if (!store) return false;
  reapQuietly(store);
  auto row = store->job(target.row ? target.row->id : jobId);
  return row && row->status == store::JobStatus::running;
}

void warnIfDamaged(const recorder::EventReader& reader, store::Store* store, const Target& target) {
  auto damage = reader.damage();
  if (!damage || stillRunning(store, target, reader.description().jobId)) return;
  warn(fmt::format("events file damaged at byte {}: {}; output may be incomplete", damage->offset,
                   escapeControl(damage->reason)));
}

}  // namespace jobtape::cli
