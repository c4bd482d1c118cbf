#include "cli/stdio_stream.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "cli/cli_error.h"

namespace jobtape::cli {

StdioBuffer::int_type StdioBuffer::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  if (std::fputc(traits_type::to_char_type(c), file_) == EOF) fail();
  return c;
}

std::streamsize StdioBuffer::xsputn(const char* data, std::streamsize count) {
  if (count > 0 && std::fwrite(data, 1, static_cast<size_t>(count), file_) != static_cast<size_t>(count)) fail();
  return count;
}

int StdioBuffer::sync() {
  if (std::fflush(file_) != 0) fail();
  return 0;
}

void StdioBuffer::fail() { throw CliError(fmt::format("cannot write the output: {}", std::strerror(errno))); }

}  // namespace jobtape::cli
