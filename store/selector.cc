// Selector resolution. The order of the readings:
//   0. name:NAME -> the most recent job of that name (a name may hold '/');
//   1. a path (contains '/' or ends in .zst) -> that events file;
//   2. keywords failed / last / running, then -N, then the explicit job: recipe: pid:;
//   3. a bare text is tried as each of job id prefix, recipe hash prefix and
//      pid that its characters allow; exactly one reading may find jobs,
//      two are refused naming both; none: an existing file of that name is
//      read as an events file, else "no job matches".
#include "store/selector.h"

#include <time.h>

#include <fmt/format.h>

#include <charconv>
#include <climits>
#include <functional>
#include <system_error>

#include "store/job_index.h"
#include "store/ulid.h"
#include "store/job_dir.h"

namespace jobtape::store {

namespace fs = std::filesystem;

namespace {

constexpr int kCandidates = 10;         // listed for an ambiguous prefix
constexpr size_t kMaxBareLength = 128;  // longer than any id, hash or pid
constexpr size_t kRecipeHashLength = 64;

// The user's text, safe to print: control and non-ASCII bytes escaped, long
// texts cut (a path is shown whole: its end is what tells it apart).
std::string shown(std::string_view text, size_t most = 40) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < most; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (text.size() > most) out += "...";
  return out;
}

std::string shownPath(std::string_view text) { return shown(text, std::string_view::npos); }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool isHex(std::string_view text) {
  for (char c : text) {
    bool digit = c >= '0' && c <= '9';
    bool letter = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit && !letter) return false;
  }
  return !text.empty();
}

// A pid as people write it: decimal, no sign, no leading zero.
std::optional<pid_t> parsePid(std::string_view text) {
  if (text.empty() || text[0] == '0') return std::nullopt;
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return static_cast<pid_t>(value);
}

std::string localTime(int64_t ms) {
  time_t seconds = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  localtime_r(&seconds, &tm);
  char buffer[32];
  strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  return buffer;
}

std::string candidateLine(const JobRow& job) {
  return fmt::format("  {} {} {} {}", job.id, jobStatusName(job.status), localTime(job.startedAtMs),
                     shown(job.command.empty() ? job.name : job.command));
}

std::string candidateLine(const BuildRow& build) {
  return fmt::format("  {} {} {} {}", build.id, build.result.value_or("running"), localTime(build.startedAtMs),
                     shown(build.commandLine));
}

template <typename Row>
[[noreturn]] void ambiguous(const std::string& what, std::string_view text, const std::vector<Row>& rows) {
  std::string message = fmt::format("{} {} is ambiguous\nThe candidates are:", what, shown(text));
  for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(kCandidates); ++i) {
    message += "\n" + candidateLine(rows[i]);
  }
  if (rows.size() > static_cast<size_t>(kCandidates)) message += "\n  ... and more; type more characters";
  throw SelectorError(message);
}

struct Reading;

struct Resolver {
  Store* store;
  JobIndex* index;

  JobIndex& requireIndex() {
    if (!store) throw SelectorError("no jobs recorded yet (there is no store); 'jobtape run' records one");
    if (!index) throw std::logic_error("selectors need a store opened with Store::open");
    return *index;
  }

  JobRow failed(int64_t offset, std::string_view text) {
    auto& jobs = requireIndex();
    // Counted first (a kept count, O(1)): an offset past the end would
    // otherwise walk every failed job.
    int64_t count = offset == 0 ? 0 : jobs.countJobs(JobKind::failed);
    if (offset > 0 && count > 0 && offset >= count) {
      throw SelectorError(fmt::format("{}: only {} failed job{} recorded", shown(text), count, count == 1 ? "" : "s"));
    }
    if (auto row = jobs.recentJob(JobKind::failed, offset)) return *row;
    if (!jobs.recentJob(JobKind::any, 0)) throw SelectorError("no jobs recorded yet; 'jobtape run' records one");
    std::string prefix = text.empty() ? "" : fmt::format("{}: ", shown(text));
    throw SelectorError(prefix + "no failed job recorded; 'last' selects the most recent job");
  }

  JobRow running() {
    if (auto row = requireIndex().recentRunningJob()) return *row;
    throw SelectorError("no job is running now; 'last' selects the most recent job");
  }

  // `job logs --follow` without a selector: what is running, else what failed.
  JobRow toFollow() {
    if (auto row = requireIndex().recentRunningJob()) return *row;
    return failed(0, "");
  }

  JobRow last() {
    if (auto row = requireIndex().recentJob(JobKind::any, 0)) return *row;
    throw SelectorError("no jobs recorded yet; 'jobtape run' records one");
  }

  JobRow back(std::string_view text) {
    auto digits = text.substr(1);
    bool allDigits = !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
    if (!allDigits) {
      throw SelectorError(fmt::format("'{}' is not a selector: -N counts failed jobs back from the most recent "
                                      "(-1, -2, ...)",
                                      shown(text)));
    }
    int64_t n = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (error == std::errc::result_out_of_range) n = INT64_MAX;
    if (n == 0) throw SelectorError(fmt::format("{}: counting starts at -1, the most recent failed job", shown(text)));
    return failed(n - 1, text);
  }

  std::vector<JobRow> idMatches(const std::string& prefix) {
    return requireIndex().jobsWithIdPrefix(prefix, kCandidates + 1);
  }

  JobRow byId(const std::string& prefix, std::string_view text, std::vector<JobRow> rows) {
    if (rows.size() == 1) return rows.front();
    if (rows.empty()) throw SelectorError(fmt::format("no job id starts with {}", shown(text)));
    ambiguous("job id prefix", text, rows);
  }

  JobRow byRecipe(std::string_view text, const std::vector<std::string>& hashes) {
    auto& jobs = requireIndex();
    if (hashes.empty()) throw SelectorError(fmt::format("no job ran a recipe whose hash starts with {}", shown(text)));
    std::vector<JobRow> latest;
    for (const auto& hash : hashes) {
      if (auto row = jobs.recentJobOfRecipe(hash)) latest.push_back(*row);
    }
    if (latest.size() == 1) return latest.front();
    if (latest.empty()) throw SelectorError(fmt::format("no job ran a recipe whose hash starts with {}", shown(text)));
    ambiguous("recipe hash prefix", text, latest);
  }

  JobRow byPid(pid_t pid, std::string_view text) {
    if (auto row = requireIndex().recentJobWithPid(pid)) return *row;
    throw SelectorError(fmt::format("no job ran with pid {}", shown(text)));
  }

  JobRow byName(std::string_view name, std::string_view text) {
    if (name.empty()) throw SelectorError(fmt::format("'{}' names nothing after the colon", shown(text)));
    if (auto row = requireIndex().recentJobNamed(std::string(name))) return *row;
    throw SelectorError(fmt::format("no job is named '{}'; 'jobtape run --name NAME' names one", shown(name, 80)));
  }

  JobRow explicitForm(std::string_view kind, std::string_view value, std::string_view text) {
    if (value.empty()) throw SelectorError(fmt::format("'{}' names nothing after the colon", shown(text)));
    if (kind == "job") {
      auto prefix = normaliseUlidPrefix(value);
      if (!prefix || prefix->size() > kUlidLength) {
        throw SelectorError(fmt::format("'{}' is not a job id prefix: job ids are up to 26 characters of "
                                        "Crockford base32 (0-9, A-Z except U)",
                                        shown(value)));
      }
      return byId(*prefix, value, idMatches(*prefix));
    }
    if (kind == "recipe") {
      if (!isHex(value) || value.size() > kRecipeHashLength) {
        throw SelectorError(fmt::format("'{}' is not a recipe hash prefix: recipe hashes are 64 hex digits",
                                        shown(value)));
      }
      return byRecipe(value, requireIndex().recipeHashesWithPrefix(lower(value), kCandidates + 1));
    }
    auto pid = parsePid(value);
    if (!pid) throw SelectorError(fmt::format("'{}' is not a pid: pids are positive decimal numbers", shown(value)));
    return byPid(*pid, value);
  }

  Selection bare(const std::string& text);
  std::vector<Reading> readings(const std::string& text, std::vector<std::string>& searched);
};

struct Reading {
  std::string name;       // "job id prefix"
  std::string form;       // "job:X", the explicit way to say it
  std::function<JobRow()> resolve;
  std::string summary;    // what it found, for the two-readings error
};

// "a, b and c" / "a, b or c".
std::string joinWords(const std::vector<std::string>& words, std::string_view last) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? std::string(last) : std::string(", ");
    out += words[i];
  }
  return out;
}

std::string countOfJobs(size_t found) {
  if (found > static_cast<size_t>(kCandidates)) return fmt::format("  more than {} jobs", kCandidates);
  return fmt::format("  {} jobs", found);
}

[[noreturn]] void refuseReadings(std::string_view text, const std::vector<Reading>& found) {
  std::vector<std::string> names;
  std::vector<std::string> forms;
  std::string details;
  for (const auto& reading : found) {
    names.push_back("a " + reading.name);
    forms.push_back(reading.form);
    details += fmt::format("\nas {}:\n{}", reading.name, reading.summary);
  }
  throw SelectorError(fmt::format("{} is both {}; say which with {}{}", shown(text), joinWords(names, " and "),
                                  joinWords(forms, " or "), details));
}

// The readings of a bare text that find jobs (none without a store);
// `searched` names every reading the text's characters allow.
std::vector<Reading> Resolver::readings(const std::string& text, std::vector<std::string>& searched) {
  std::vector<Reading> found;
  auto id = normaliseUlidPrefix(text);
  if (id && id->size() <= kUlidLength) {
    searched.push_back("job ids");
    auto rows = index ? idMatches(*id) : std::vector<JobRow>{};
    if (!rows.empty()) {
      found.push_back({"job id prefix", "job:" + shown(text), [this, id, text, rows] { return byId(*id, text, rows); },
                       rows.size() == 1 ? candidateLine(rows[0]) : countOfJobs(rows.size())});
    }
  }
  if (isHex(text) && text.size() <= kRecipeHashLength) {
    searched.push_back("recipe hashes");
    auto hashes = index ? index->recipeHashesWithPrefix(lower(text), kCandidates + 1) : std::vector<std::string>{};
    if (!hashes.empty()) {
      std::string summary = fmt::format("  {} recipes", hashes.size());
      if (hashes.size() == 1) {
        if (auto row = index->recentJobOfRecipe(hashes[0])) summary = candidateLine(*row);
      }
      found.push_back({"recipe hash prefix", "recipe:" + shown(text),
                       [this, text, hashes] { return byRecipe(text, hashes); }, summary});
    }
  }
  if (auto pid = parsePid(text)) {
    searched.push_back("pids");
    if (auto row = index ? index->recentJobWithPid(*pid) : std::nullopt) {
      JobRow job = *row;
      found.push_back({"pid", "pid:" + shown(text), [job] { return job; }, candidateLine(job)});
    }
  }
  return found;
}

Selection Resolver::bare(const std::string& text) {
  std::vector<std::string> searched;
  std::vector<Reading> found = readings(text, searched);
  if (found.size() == 1) return found.front().resolve();
  if (found.size() > 1) refuseReadings(text, found);
  std::error_code error;
  if (fs::is_regular_file(text, error)) return EventsFileSelection{fs::absolute(text)};
  if (searched.empty()) {
    throw SelectorError(fmt::format("'{}' is not a selector: expected failed, last, running, -N, a job id prefix, a recipe "
                                    "hash prefix, a pid, an events file path, or job:, recipe:, pid:, name:",
                                    shown(text)));
  }
  requireIndex();  // no store: says so
  throw SelectorError(fmt::format("no job matches '{}' (searched {})", shown(text), joinWords(searched, " and ")));
}

Selection resolvePath(const std::string& text) {
  std::error_code error;
  fs::path path(text);
  auto status = fs::status(path, error);
  if (fs::is_directory(status)) {
    fs::path inside = eventsFileIn(path);
    if (fs::is_regular_file(inside, error)) return EventsFileSelection{fs::absolute(inside)};
    throw SelectorError(fmt::format("{} is a directory without an events.bin.zst", shownPath(text)));
  }
  if (fs::exists(status)) return EventsFileSelection{fs::absolute(path)};
  throw SelectorError(fmt::format("no events file at {}", shownPath(text)));
}

}  // namespace

Selection resolveFollowSelector(Store* store, const std::optional<std::string>& selector) {
  if (selector) return resolveSelector(store, selector);
  Resolver resolver{store, dynamic_cast<JobIndex*>(store)};
  return resolver.toFollow();
}

Selection resolveSelector(Store* store, const std::optional<std::string>& selector) {
  Resolver resolver{store, dynamic_cast<JobIndex*>(store)};
  if (!selector) return resolver.failed(0, "");
  const std::string& text = *selector;
  if (text.empty()) throw SelectorError("empty selector; leave it out to select the most recent failed job");
  if (text.find('\0') != std::string::npos) throw SelectorError(fmt::format("'{}' contains a NUL byte", shown(text)));
  if (lower(std::string_view(text).substr(0, 5)) == "name:") return resolver.byName(std::string_view(text).substr(5), text);
  if (text.find('/') != std::string::npos || text.ends_with(".zst")) return resolvePath(text);
  if (text.size() > kMaxBareLength) {
    throw SelectorError(fmt::format("selector is too long ({} characters); a job id has 26, a recipe hash 64",
                                    text.size()));
  }
  std::string keyword = lower(text);
  if (keyword == "failed") return resolver.failed(0, "");
  if (keyword == "last") return resolver.last();
  if (keyword == "running") return resolver.running();
  if (text[0] == '-') return resolver.back(text);
  if (auto colon = text.find(':'); colon != std::string::npos) {
    std::string kind = lower(text.substr(0, colon));
    if (kind == "job" || kind == "recipe" || kind == "pid") {
      return resolver.explicitForm(kind, std::string_view(text).substr(colon + 1), text);
    }
    throw SelectorError(fmt::format("'{}' is not a selector: the explicit forms are job:ID, recipe:HASH, pid:N and "
                                    "name:NAME",
                                    shown(text)));
  }
  return resolver.bare(text);
}

BuildRow resolveBuildSelector(Store& store, const std::optional<std::string>& selector) {
  auto* index = dynamic_cast<JobIndex*>(&store);
  if (!index) throw std::logic_error("build selectors need a store opened with Store::open");
  std::string keyword = selector ? lower(*selector) : "last";
  if (keyword == "last") {
    if (auto row = index->recentBuild(JobKind::any)) return *row;
    throw SelectorError("no builds recorded yet; 'jobtape run' records one");
  }
  if (keyword == "failed") {
    if (auto row = index->recentBuild(JobKind::failed)) return *row;
    if (!index->recentBuild(JobKind::any)) throw SelectorError("no builds recorded yet; 'jobtape run' records one");
    throw SelectorError("no failed build recorded; 'last' selects the most recent build");
  }
  std::string_view text = *selector;
  if (keyword.starts_with("build:")) text.remove_prefix(6);
  if (text.find('\0') != std::string_view::npos) {
    throw SelectorError(fmt::format("'{}' contains a NUL byte", shown(text)));
  }
  auto prefix = normaliseUlidPrefix(text);
  if (text.empty() || !prefix || prefix->size() > kUlidLength) {
    throw SelectorError(fmt::format("'{}' is not a build selector: expected last, failed or a build id prefix",
                                    shown(*selector)));
  }
  auto rows = index->buildsWithIdPrefix(*prefix, kCandidates + 1);
  if (rows.size() == 1) return rows.front();
  if (rows.empty()) throw SelectorError(fmt::format("no build matches '{}' (searched build ids)", shown(text)));
  ambiguous("build id prefix", text, rows);
}

}  // namespace jobtape::store
