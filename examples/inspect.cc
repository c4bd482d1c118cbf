// Offering `job list` and `job logs` in a build tool: the last jobs of a
// jobtape home, then the output of the most recent failed one, read through
// the same selectors and renderings as the jobtape command.
//
//   c++ -std=c++20 inspect.cc $(pkg-config --cflags --libs jobtape) -o inspect
//   ./inspect [HOME]     # HOME: jobtape's data directory (default: the usual)
//
// Prints one line per job, most recent first: "<short id> <status>
// <command>", then "logs of <job id> (exit <N>):" and that job's output as it
// was recorded. Exits 1 when no job failed.
#include <jobtape/inspect.h>
#include <jobtape/views.h>

#include <iostream>
#include <optional>
#include <variant>

namespace {

// How the job ended, from its events file: the typed events of <jobtape/events.h>.
std::optional<int> exitCodeOf(jobtape::Home& home, const jobtape::SelectedJob& job) {
  auto events = home.events(job);
  while (auto event = events->next()) {
    if (auto* finish = std::get_if<jobtape::JobFinish>(&*event)) return finish->exitCode;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    jobtape::HomeOptions options;
    if (argc > 1) options.home = argv[1];
    auto home = jobtape::Home::open(options);
    for (const auto& job : home->jobs({.limit = 10}).jobs) {
      // Commands come from the store: escaped before they reach a terminal.
      std::cout << home->shortId(job.id) << ' ' << jobtape::jobStatusName(job.status) << ' '
                << jobtape::escapeControl(job.command) << '\n';
    }

    jobtape::SelectedJob failed = home->selectJob("failed");
    auto exitCode = exitCodeOf(*home, failed);
    std::cout << "logs of " << failed.record->id << " (exit " << (exitCode ? std::to_string(*exitCode) : "?")
              << "):\n";
    auto events = home->events(failed);
    jobtape::writeLogs(*events, {}, std::cout);
    return 0;
  } catch (const jobtape::SelectorError& error) {
    std::cerr << "inspect: " << jobtape::escapeControl(error.what()) << '\n';
    return 1;
  } catch (const jobtape::Error& error) {
    std::cerr << "inspect: " << jobtape::errorKindName(error.kind()) << " error: "
              << jobtape::escapeControl(error.what()) << '\n';
    return 2;
  }
}
