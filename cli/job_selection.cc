#include "cli/job_selection.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace jobtape::cli {

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

std::vector<JobRecord> withoutDamaged(JobListing listing) {
  for (const auto& damage : listing.skipped) {
    warn(escapeControl(fmt::format("skipped a damaged job row: {}", damage)));
  }
  return std::move(listing.jobs);
}

void warnIfDamaged(const JobEvents& events) {
  auto damage = events.damage();
  if (!damage) return;
  warn(fmt::format("events file damaged at byte {}: {}; output may be incomplete", damage->offset,
                   escapeControl(damage->reason)));
}

}  // namespace jobtape::cli
