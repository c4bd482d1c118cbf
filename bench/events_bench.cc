// In-process figures for the events file: what a capture call costs the
// supervisor, writer throughput (compression included), reader decode.
// Whole-process comparisons with the zstd command: bench/events_vs_zstd.sh.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "bench/events_log_lines.h"
#include "recorder/events/event_reader.h"
#include "recorder/events/event_writer.h"
#include "recorder/events/events_codec.h"

namespace jobtape::recorder {
namespace {

const std::string& logBytes() {
  static const std::string bytes = [] {
    std::string out;
    bench::LogLines(7).fill(out, size_t{64} << 20);
    return out;
  }();
  return bytes;
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "jobtape-bench-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : throw std::runtime_error("mkdtemp failed");
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void writeEventsFile(const std::filesystem::path& path, const std::string& bytes, size_t chunk) {
  auto writer = EventWriter::create(path, JobDescription{});
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    writer->output(sandbox::Stream::stdout_, at, {bytes.data() + at, std::min(chunk, bytes.size() - at)});
  }
  writer->finish({});
}

// The supervisor's side of a capture call: one copy into a message.
void BM_EncodeOutputEvent(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  const std::string& bytes = logBytes();
  for (auto _ : state) {
    auto message = encodeOutput(sandbox::Stream::stdout_, 1, {bytes.data(), chunk});
    benchmark::DoNotOptimize(message.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk));
}
BENCHMARK(BM_EncodeOutputEvent)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20);

// 64 MiB of log lines through create/output/finish, compression included.
void BM_WriterThroughput(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  const std::string& bytes = logBytes();
  ScratchDir dir;
  int n = 0;
  for (auto _ : state) {
    auto path = dir.file("events" + std::to_string(n++) + ".bin.zst");
    writeEventsFile(path, bytes, chunk);
    state.PauseTiming();
    state.counters["ratio"] = static_cast<double>(bytes.size()) / std::filesystem::file_size(path);
    std::filesystem::remove(path);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_WriterThroughput)->Arg(4 << 10)->Arg(64 << 10)->Unit(benchmark::kMillisecond)->UseRealTime();

// Decoding all events of a 64 MiB-of-output file.
void BM_ReaderDecode(benchmark::State& state) {
  const std::string& bytes = logBytes();
  ScratchDir dir;
  const auto path = dir.file("events.bin.zst");
  writeEventsFile(path, bytes, 64 << 10);
  for (auto _ : state) {
    auto reader = EventReader::open(path);
    size_t total = 0;
    while (auto event = reader->next()) total += event->output.bytes.size();
    if (total != bytes.size()) state.SkipWithError("decoded a different number of bytes");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_ReaderDecode)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace jobtape::recorder

BENCHMARK_MAIN();
