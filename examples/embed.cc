// Embedding jobtape in a build tool: one build, one project, two jobs run at
// the same time (one succeeds, one fails), their output observed live.
//
//   c++ -std=c++20 embed.cc $(pkg-config --cflags --libs jobtape) -o embed
//   ./embed [HOME]     # HOME: jobtape's data directory (default: the usual)
//
// Prints one line per job: "<job id> <succeeded|failed> exit <N>", then the
// build's result, then what failed (<jobtape/what_failed.h>). Exits 0 when
// the two jobs ended as expected.
#include <jobtape/recorder.h>
#include <jobtape/what_failed.h>

#include <filesystem>
#include <future>
#include <iostream>
#include <mutex>

namespace {

jobtape::Recipe shellJob(const std::string& name, const std::string& script) {
  jobtape::Recipe recipe = jobtape::defaultRecipe("/bin/sh", {"-c", script});
  recipe.name = name;
  return recipe;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    jobtape::RecorderOptions options;
    if (argc > 1) options.home = argv[1];
    auto recorder = jobtape::Recorder::open(options);
    auto build = recorder->beginBuild({.commandLine = "embed example"});
    int64_t project = build->addProject({.localPath = std::filesystem::current_path()});

    std::mutex outputMutex;
    jobtape::JobOptions jobOptions;
    jobOptions.onOutput = [&](const jobtape::JobInfo& job, jobtape::OutputStream, std::string_view bytes) {
      std::lock_guard lock(outputMutex);
      std::cerr << "[" << job.name << "] " << bytes;
    };
    // Build::run is thread-safe: run both jobs at once.
    auto good = std::async(std::launch::async, [&] {
      return build->run(shellJob("good", "echo compiling good.c"), project, jobOptions);
    });
    auto bad = std::async(std::launch::async, [&] {
      return build->run(shellJob("bad", "echo 'bad.c:1:1: error: expected declaration' >&2; exit 1"), project,
                        jobOptions);
    });
    jobtape::JobResult results[] = {good.get(), bad.get()};
    for (const auto& result : results) {
      std::cout << result.jobId << ' ' << (result.succeeded ? "succeeded" : "failed") << " exit "
                << result.exitCode << '\n';
    }
    std::string buildResult = build->finish();
    std::cout << "build " << build->id() << ' ' << buildResult << '\n';
    // The failed job's commands and their output, from its events file.
    jobtape::WhatFailed failed = jobtape::whatFailed(results[1].eventsFile);
    jobtape::WhatFailedTextOptions text;
    text.escape = [](std::string_view bytes) {  // only printable ASCII and UTF-8 reach the terminal
      std::string safe;
      for (char c : bytes) safe += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
      return safe;
    };
    std::cout << jobtape::renderWhatFailed(failed, text);
    bool expected = results[0].succeeded && !results[1].succeeded && results[1].exitCode == 1 &&
                    buildResult == "failed" && failed.processes.size() == 1;
    return expected ? 0 : 1;
  } catch (const jobtape::Error& error) {
    std::cerr << "embed: " << jobtape::errorKindName(error.kind()) << " error: " << error.what() << '\n';
    return 2;
  }
}
