// Owning handles for zstd's compression and decompression contexts.
//
// The events file is the only zstd user; these keep every ZSTD_CCtx/DCtx
// behind RAII and turn zstd's size_t error codes into exceptions in one place.
#pragma once

#include <zstd.h>

#include <cstddef>
#include <memory>

namespace jobtape::recorder {

// Gives a compression context back to makeCompressor's pool (freed when the
// pool is full): its workspace stays allocated for the next job's frames.
struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx* cctx) const noexcept;
};
struct ZstdDCtxFree {
  void operator()(ZSTD_DCtx* dctx) const noexcept { ZSTD_freeDCtx(dctx); }
};
using ZstdCCtx = std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree>;
using ZstdDCtx = std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree>;

// A streaming compressor at `level` that writes a content checksum in every
// frame (so a reader can tell a damaged frame from a good one). Throws
// std::runtime_error when zstd cannot allocate or refuses a parameter.
//
// Contexts are reused across the jobs of a process: a fresh one faults in
// its tables (about a megabyte at level 3) on its first frame, a reused one
// compresses into memory already there. Reuse changes no output: every
// frame is a whole ZSTD_compress2 and the parameters are set again.
ZstdCCtx makeCompressor(int level);

// A streaming decompressor that refuses frames asking for a window larger
// than 2^windowLogMax bytes: untrusted files must not choose our memory use.
ZstdDCtx makeDecompressor(int windowLogMax);

// Throws std::runtime_error("<what>: <zstd error name>") when `code` is a
// zstd error; returns it unchanged otherwise.
size_t checkZstd(size_t code, const char* what);

}  // namespace jobtape::recorder
