// Fuzzes the events reader on raw file bytes: the zstd layer, the frame
// limits and, for inputs that keep a valid zstd frame, the messages in it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  jobtape::fuzz::readWholeFile(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
