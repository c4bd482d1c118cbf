#include "recorder/events/zstd_context.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace jobtape::recorder {

size_t checkZstd(size_t code, const char* what) {
  if (ZSTD_isError(code)) {
    throw std::runtime_error(std::string(what) + ": " + ZSTD_getErrorName(code));
  }
  return code;
}

namespace {

// As many as jobs a Recorder runs at once, usually; more are freed.
constexpr size_t kPooledCompressors = 16;

struct CompressorPool {
  std::mutex mutex;
  std::vector<ZSTD_CCtx*> idle;
};

// Never destroyed: a writer may give its context back during static
// destruction.
CompressorPool& compressorPool() {
  static auto* pool = new CompressorPool;
  return *pool;
}

ZSTD_CCtx* takeCompressor() {
  CompressorPool& pool = compressorPool();
  std::lock_guard lock(pool.mutex);
  if (pool.idle.empty()) return nullptr;
  ZSTD_CCtx* cctx = pool.idle.back();
  pool.idle.pop_back();
  return cctx;
}

}  // namespace

void ZstdCCtxFree::operator()(ZSTD_CCtx* cctx) const noexcept {
  if (ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters))) {
    ZSTD_freeCCtx(cctx);
    return;
  }
  CompressorPool& pool = compressorPool();
  std::unique_lock lock(pool.mutex);
  if (pool.idle.size() < kPooledCompressors) {
    try {
      pool.idle.push_back(cctx);
      return;
    } catch (...) {
    }
  }
  lock.unlock();
  ZSTD_freeCCtx(cctx);
}

ZstdCCtx makeCompressor(int level) {
  ZSTD_CCtx* reused = takeCompressor();
  ZstdCCtx cctx(reused ? reused : ZSTD_createCCtx());
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
