#include "recorder/events/zstd_context.h"

#include <stdexcept>
#include <string>

namespace jobtape::recorder {

size_t checkZstd(size_t code, const char* what) {
  if (ZSTD_isError(code)) {
    throw std::runtime_error(std::string(what) + ": " + ZSTD_getErrorName(code));
  }
  return code;
}

ZstdCCtx makeCompressor(int level) {
  ZstdCCtx cctx(ZSTD_createCCtx());
  if (!cctx) throw std::runtime_error("zstd: cannot allocate a compression context");
  checkZstd(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level),
            "zstd compression level");
  checkZstd(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1), "zstd checksum flag");
  return cctx;
}

ZstdDCtx makeDecompressor(int windowLogMax) {
  ZstdDCtx dctx(ZSTD_createDCtx());
  if (!dctx) throw std::runtime_error("zstd: cannot allocate a decompression context");
  checkZstd(ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, windowLogMax),
            "zstd window limit");
  return dctx;
}

}  // namespace jobtape::recorder
