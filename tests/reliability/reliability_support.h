// Helpers of the reliability tests: SQL on a store behind jobtape's back
// (the sqlite3 program, as a person repairing or damaging a store would),
// and a job that waits for a file before it ends.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli_run/run_test_support.h"

namespace jobtape::testing {

// Runs `sql` on HOME/jobtape.db with the sqlite3 program; returns its stdout.
std::string sqlOn(const std::filesystem::path& home, const std::string& sql);

// `jobtape run` arguments of a job that prints "ready", waits until `flag`
// exists, prints "done" and exits 0.
std::vector<std::string> waitingJob(const std::filesystem::path& flag);

}  // namespace jobtape::testing
