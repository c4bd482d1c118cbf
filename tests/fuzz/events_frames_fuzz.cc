// Fuzzes the Cap'n Proto side of the events reader: the input is cut into
// frame contents that are each compressed into a valid zstd frame, so
// mutations reach the message framing and decoding instead of dying in
// zstd's checksum.
//
// Input layout: one flag byte, then chunks of [u16 little-endian length]
// [content]; a last chunk shorter than its length takes what is left.
// Flag bit 0 set: a real job description frame comes first, so the chunks
// are read as the job's events; clear: the first chunk is the description.
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "recorder/events/events_codec.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace jobtape;

// One context for the whole run (kept to the end, as libFuzzer never
// returns): creating one per frame would cost more than the reading.
ZSTD_CCtx* compressor() {
  static ZSTD_CCtx* const cctx = [] {
    ZSTD_CCtx* made = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(made, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(made, ZSTD_c_compressionLevel, 1);
    return made;
  }();
  return cctx;
}

std::string compressFrame(std::string_view content) {
  std::string frame(ZSTD_compressBound(content.size()), '\0');
  const size_t size = ZSTD_compress2(compressor(), frame.data(), frame.size(), content.data(), content.size());
  if (ZSTD_isError(size)) std::abort();
  frame.resize(size);
  return frame;
}

const std::string& descriptionFrame() {
  static const std::string frame = [] {
    recorder::JobDescription d;
    d.jobId = "01HZX5K3Q8V6W2N4M7P9R1T3Y5";
    d.buildId = "01HZX5K3Q8V6W2N4M7P9R1T3Y6";
    d.recipe.command = "cc";
    d.recipe.args = {"-c", "main.c"};
    d.recipe.workDir = "/src";
    d.recipeHash = std::string(64, 'a');
    d.host = "fuzzhost";
    d.sandboxed = true;
    auto message = recorder::encodeJobStarted(d);
    return compressFrame(std::string_view(message.data(), message.size()));
  }();
  return frame;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string file;
  if (data[0] & 1) file = descriptionFrame();
  size_t at = 1;
  while (at < size) {
    size_t length = data[at];
    if (at + 1 < size) length |= size_t{data[at + 1]} << 8;
    at += 2;
    if (at > size) break;
    const size_t take = std::min(length, size - at);
    file += compressFrame(std::string_view(reinterpret_cast<const char*>(data) + at, take));
    at += take;
  }
  if (file.empty()) return 0;
  fuzz::readWholeFile(file);
  return 0;
}
