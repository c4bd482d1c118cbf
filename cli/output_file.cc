#include "cli/output_file.h"

#include <fmt/format.h>
#include <jobtape/text.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "cli/cli_error.h"

namespace jobtape::cli {

namespace fs = std::filesystem;

void makeOutputDirectory(const fs::path& dir) {
  std::error_code ec;
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec || (!dir.empty() && !fs::is_directory(dir))) {
    throw CliError(fmt::format("cannot create the directory {}: {}", escapeControl(dir.string()),
                               ec ? ec.message() : std::string("a file is in the way")),
                   "give a path in a directory you can write");
  }
}

void writeOutputFile(const fs::path& path, std::string_view text) {
  makeOutputDirectory(path.parent_path());
  fs::path temporary = path;
  temporary += ".tmp";
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  int openErrno = errno;
  out << text;
  out.close();
  std::error_code ec;
  if (out) fs::rename(temporary, path, ec);
  if (!out || ec) {
    std::string reason = ec ? ec.message() : std::strerror(openErrno);
    fs::remove(temporary, ec);
    throw CliError(fmt::format("cannot write {}: {}", escapeControl(path.string()), reason),
                   "give a path in a directory you can write");
  }
}

}  // namespace jobtape::cli
