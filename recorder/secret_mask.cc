#include "recorder/secret_mask.h"

#include <string.h>

#include <algorithm>
#include <set>

namespace jobtape::recorder {

namespace {

struct Run {
  size_t begin;
  size_t end;
};

std::vector<size_t> bordersOf(const std::string& value) {
  std::vector<size_t> border(value.size(), 0);
  for (size_t i = 1, k = 0; i < value.size(); ++i) {
    while (k > 0 && value[i] != value[k]) k = border[k - 1];
    if (value[i] == value[k]) ++k;
    border[i] = k;
  }
  return border;
}

// Every occurrence of every needle in `text`, plus [0, coveredPrefix), as
// sorted runs with overlapping and adjacent ones merged. An occurrence is
// searched again from the byte after its start, so overlapping occurrences
// of one needle ("abab" in "ababab") are all found.
void findRuns(const std::vector<SecretMask::Needle>& needles, std::string_view text, size_t coveredPrefix,
              std::vector<Run>& runs) {
  runs.clear();
  if (coveredPrefix > 0) runs.push_back({0, coveredPrefix});
  for (const auto& needle : needles) {
    const std::string& value = needle.value;
    for (size_t from = 0; from + value.size() <= text.size();) {
      const void* hit = ::memmem(text.data() + from, text.size() - from, value.data(), value.size());
      if (hit == nullptr) break;
      size_t begin = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
      size_t end = begin + value.size();
      if (!runs.empty() && runs.back().begin <= begin && begin <= runs.back().end) {
        runs.back().end = std::max(runs.back().end, end);
      } else {
        runs.push_back({begin, end});
      }
      from = begin + 1;
    }
  }
  if (needles.size() + (coveredPrefix > 0) <= 1) return;  // one source: already sorted and merged
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.begin < b.begin; });
  size_t kept = 0;
  for (size_t i = 1; i < runs.size(); ++i) {
    if (runs[i].begin <= runs[kept].end) {
      runs[kept].end = std::max(runs[kept].end, runs[i].end);
    } else {
      runs[++kept] = runs[i];
    }
  }
  if (!runs.empty()) runs.resize(kept + 1);
}

// Length of the longest suffix of `text` that is a proper prefix of the
// needle: the bytes that may still become an occurrence.
size_t pendingPrefix(const SecretMask::Needle& needle, std::string_view text) {
  const std::string& value = needle.value;
  size_t window = value.size() - 1;
  size_t q = 0;
  for (size_t i = text.size() > window ? text.size() - window : 0; i < text.size(); ++i) {
    while (q > 0 && text[i] != value[q]) q = needle.border[q - 1];
    if (text[i] == value[q]) ++q;
  }
  return q;  // < value.size(): the window is shorter than the needle
}

}  // namespace

SecretMask::SecretMask(const std::vector<std::string>& values) {
  std::set<std::string_view> seen;
  for (const auto& value : values) {
    if (value.size() < kMinLength || !seen.insert(value).second) continue;
    needles_.push_back({value, bordersOf(value)});
    maxLength_ = std::max(maxLength_, value.size());
  }
}

std::string SecretMask::maskText(std::string_view text) const {
  if (empty()) return std::string(text);
  MaskedStream stream(*this);
  std::string masked(stream.feed(text));
  masked += stream.finish();
  return masked;
}

std::string_view MaskedStream::feed(std::string_view chunk) {
  if (tail_.empty()) return process(chunk, false);
  joined_.assign(tail_);
  joined_.append(chunk);
  return process(joined_, false);
}

std::string_view MaskedStream::finish() {
  joined_.swap(tail_);
  std::string_view rest = process(joined_, true);
  coveredPrefix_ = 0;
  lastCovered_ = false;
  return rest;
}

// Gives out buffer[0, end) masked and keeps buffer[end, size) raw, where
// `end` is the start of the earliest suffix that may still grow into an
// occurrence. An occurrence that straddles `end` has its "***" given out
// now; the covered bytes after `end` are remembered as coveredPrefix_.
std::string_view MaskedStream::process(std::string_view buffer, bool final) {
  std::vector<Run> runs;
  findRuns(mask_.needles(), buffer, coveredPrefix_, runs);
  size_t end = buffer.size();
  if (!final) {
    for (const auto& needle : mask_.needles()) end = std::min(end, buffer.size() - pendingPrefix(needle, buffer));
  }
  std::string_view given;
  if (end == 0) {
    given = {};  // all held back; coveredPrefix_ and lastCovered_ stand
  } else if (runs.empty()) {
    given = buffer.substr(0, end);
    coveredPrefix_ = 0;
    lastCovered_ = false;
  } else {
    out_.clear();
    size_t pos = 0;
    size_t covered = 0;
    bool lastCovered = false;
    for (const Run& run : runs) {
      if (run.begin >= end) break;
      out_.append(buffer.substr(pos, run.begin - pos));
      if (run.begin != 0 || !lastCovered_) out_.append(kMaskedText);
      if (run.end > end) covered = run.end - end;
      pos = std::min(run.end, end);
      lastCovered = pos == end;
    }
    out_.append(buffer.substr(pos, end - pos));
    coveredPrefix_ = covered;
    lastCovered_ = lastCovered;
    given = out_;
  }
  // `buffer` may be tail_'s old bytes (joined_): copy the kept part out first.
  std::string kept(buffer.substr(end));
  tail_.swap(kept);
  return given;
}

}  // namespace jobtape::recorder
