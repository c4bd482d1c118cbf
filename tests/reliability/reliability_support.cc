#include "tests/reliability/reliability_support.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace jobtape::testing {

std::string sqlOn(const std::filesystem::path& home, const std::string& sql) {
  auto result = runProgramToEnd({"/usr/bin/sqlite3", "-batch", (home / "jobtape.db").string(), sql});
  if (result.exitStatus != 0) {
    throw std::runtime_error("sqlite3 failed on " + home.string() + ": " + result.err);
  }
  return result.out;
}

std::vector<std::string> waitingJob(const std::filesystem::path& flag) {
  return {"run", "--", "sh", "-c",
          "echo ready; while [ ! -e '" + flag.string() + "' ]; do sleep 0.05; done; echo done"};
}

}  // namespace jobtape::testing
