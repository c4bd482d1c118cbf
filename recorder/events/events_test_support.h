// Shared by the events file tests: a scratch directory, a realistic job
// description, and an independent frame splitter (plain zstd + capnp
// framing, none of the reader's code) to check the reader against.
#pragma once

#include <capnp/serialize.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "recorder/events/event_reader.h"
#include "recorder/events/event_writer.h"

namespace jobtape::recorder::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "jobtape-events-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline JobDescription sampleDescription() {
  JobDescription d;
  d.jobId = "01HZX5K3Q8V6W2N4M7P9R1T3Y5";
  d.buildId = "01HZX5K3Q8V6W2N4M7P9R1T3Y6";
  d.recipe.command = "cc";
  d.recipe.args = {"-c", "main.c", "-o", "main.o"};
  d.recipe.env = {{"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}};
  d.recipe.workDir = "/src";
  d.recipe.mounts = {{Mount::Kind::roBind, "/usr", ""}, {Mount::Kind::tmpfs, "", "/tmp"}};
  d.recipe.network = false;
  d.recipe.limits.timeoutMs = 60000;
  d.recipe.name = "compile main.c";
  d.recipeHash = std::string(64, 'a');
  d.host = "buildhost";
  d.startedAtUnixNs = 1717171717123456789;
  d.sandboxed = true;
  d.stateDir = "/var/tmp/jobtape/state/x";
  d.kernel = "6.1.0-test";
  d.callerUid = 1000;
  d.callerGid = 1000;
  return d;
}

inline sandbox::RunResult exitedWith(int code) {
  sandbox::RunResult r;
  r.outcome = sandbox::Outcome::exited;
  r.exitCode = code;
  r.wallNs = 123456789;
  r.message = code == 0 ? "exited with status 0" : "exited with status " + std::to_string(code);
  r.rusage.userCpu = std::chrono::nanoseconds(5000);
  r.rusage.maxRssBytes = 1 << 20;
  return r;
}

inline std::vector<Event> readAll(EventReader& reader) {
  std::vector<Event> events;
  while (auto event = reader.next()) events.push_back(std::move(*event));
  return events;
}

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void writeFile(const std::filesystem::path& path, const std::string& bytes) {
  // Unlink first: ext4 flushes a file truncated and rewritten in place on
  // close (auto_da_alloc), which would make the loops below wait on the disk.
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// One zstd frame of a file, as plain zstd and capnp framing see it.
struct FrameInfo {
  uint64_t offset = 0;         // compressed offset of the frame's first byte
  uint64_t compressedSize = 0;
  size_t contentSize = 0;      // decompressed bytes
  size_t messages = 0;         // whole stream-framed messages in it
};

inline std::string decompressFrame(const char* data, size_t size) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::string content;
  ZSTD_inBuffer in{data, size, 0};
  std::vector<char> out(1 << 16);
  size_t rc = 1;
  while (rc != 0) {
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    rc = ZSTD_decompressStream(dctx.get(), &ob, &in);
    if (ZSTD_isError(rc)) throw std::runtime_error(ZSTD_getErrorName(rc));
    content.append(out.data(), ob.pos);
    if (rc != 0 && ob.pos == 0 && in.pos == in.size) throw std::runtime_error("truncated frame");
  }
  return content;
}

inline std::vector<FrameInfo> splitFrames(const std::string& file) {
  std::vector<FrameInfo> frames;
  uint64_t at = 0;
  while (at < file.size()) {
    size_t size = ZSTD_findFrameCompressedSize(file.data() + at, file.size() - at);
    if (ZSTD_isError(size)) throw std::runtime_error(ZSTD_getErrorName(size));
    std::string content = decompressFrame(file.data() + at, size);
    FrameInfo frame{at, size, content.size(), 0};
    // Copy into words: capnp wants aligned memory.
    std::vector<capnp::word> words(content.size() / sizeof(capnp::word) + 1);
    std::memcpy(words.data(), content.data(), content.size());
    size_t w = 0;
    const size_t total = content.size() / sizeof(capnp::word);
    while (w < total) {
      w += capnp::expectedSizeInWordsFromPrefix(kj::arrayPtr(words.data() + w, total - w));
      ++frame.messages;
    }
    if (w != total || content.size() % sizeof(capnp::word) != 0) {
      throw std::runtime_error("frame does not hold whole messages");
    }
    frames.push_back(frame);
    at += size;
  }
  return frames;
}

}  // namespace jobtape::recorder::testing
