// A std::ostream over a stdio FILE (stdout, stderr) for what the library
// renders: it interleaves with the command's own printf, and a write that
// fails is one CliError ("cannot write the output: Broken pipe").
#pragma once

#include <cstdio>
#include <ostream>
#include <streambuf>

namespace jobtape::cli {

class StdioBuffer : public std::streambuf {
 public:
  explicit StdioBuffer(std::FILE* file) : file_(file) {}

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* data, std::streamsize count) override;
  int sync() override;

 private:
  [[noreturn]] void fail();
  std::FILE* file_;
};

class StdioStream : public std::ostream {
 public:
  explicit StdioStream(std::FILE* file) : std::ostream(nullptr), buffer_(file) {
    rdbuf(&buffer_);
    exceptions(badbit);  // the buffer's CliError goes through to the caller
  }

 private:
  StdioBuffer buffer_;
};

}  // namespace jobtape::cli
