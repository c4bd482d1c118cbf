// The cost of masking secrets in recorded output: 256 MiB of compiler-like
// log lines in 64 KiB chunks (a pipe read) through one stream's masker,
// with 0, 1 and 4 secrets (none of which occurs: the usual case), and with
// one secret that occurs once a MiB. With 0 the recorder skips the masker;
// the figure shows that even calling it is only a view of the chunk.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/events_log_lines.h"
#include "recorder/secret_mask.h"

namespace {

constexpr size_t kTotal = 256u << 20;
constexpr size_t kChunk = 64u << 10;

const std::string& logText(bool withSecret) {
  static const std::string plain = [] {
    std::string text;
    jobtape::bench::LogLines(7).fill(text, 16u << 20);
    return text;
  }();
  static const std::string seeded = [] {
    std::string text = plain;
    for (size_t at = 1000; at + 64 < text.size(); at += 1u << 20) text.replace(at, 14, "hunter2hunter2");
    return text;
  }();
  return withSecret ? seeded : plain;
}

void BM_MaskOutput(benchmark::State& state) {
  std::vector<std::string> secrets = {"hunter2hunter2", "ghp_0123456789abcdefghijABCDEFGHIJ012345",
                                      "AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMI", "s3cr3t-passw0rd!"};
  secrets.resize(static_cast<size_t>(state.range(0)));
  jobtape::recorder::SecretMask mask(secrets);
  const std::string& text = logText(state.range(1) != 0);
  size_t sink = 0;
  for (auto _ : state) {
    jobtape::recorder::MaskedStream stream(mask);
    for (size_t done = 0; done < kTotal; done += kChunk) {
      size_t at = done % (text.size() - kChunk);
      sink += stream.feed(std::string_view(text).substr(at, kChunk)).size();
    }
    sink += stream.finish().size();
  }
  benchmark::DoNotOptimize(sink);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kTotal));
}
BENCHMARK(BM_MaskOutput)
    ->ArgNames({"secrets", "occurs"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({4, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
