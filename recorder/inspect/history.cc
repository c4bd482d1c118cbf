#include "recorder/inspect/history.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "recorder/inspect/json_text.h"
#include "store/retention.h"

namespace jobtape::recorder {

namespace {

std::string formatDay(const std::tm& tm) {
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// Floor division so that times before 1970 still land on the right day.
std::time_t toSeconds(int64_t unixMs) {
  int64_t seconds = unixMs / 1000;
  if (unixMs % 1000 < 0) --seconds;
  return static_cast<std::time_t>(seconds);
}

struct DayBuilder {
  DayStats stats;
  std::vector<int64_t> buildDurations;
  std::vector<int64_t> jobDurations;
};

bool isDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int64_t> parseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto year = text.substr(0, 4), month = text.substr(5, 2), day = text.substr(8, 2);
  if (!isDigits(year) || !isDigits(month) || !isDigits(day)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(std::string(year)) - 1900;
  tm.tm_mon = std::stoi(std::string(month)) - 1;
  tm.tm_mday = std::stoi(std::string(day));
  tm.tm_isdst = -1;
  std::tm asked = tm;
  std::time_t seconds = std::mktime(&tm);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  // mktime normalises 2026-02-30 to March 2nd: refuse what it had to move.
  if (tm.tm_year != asked.tm_year || tm.tm_mon != asked.tm_mon || tm.tm_mday != asked.tm_mday) return std::nullopt;
  return static_cast<int64_t>(seconds) * 1000;
}

void writeStats(JsonWriter& json, std::string_view name, const DurationStats& stats) {
  json.key(name).beginObject();
  json.field("count", stats.count);
  json.field("total_ms", stats.totalMs);
  json.field("median_ms", stats.medianMs);
  json.field("max_ms", stats.maxMs);
  json.endObject();
}

}  // namespace

std::string localDay(int64_t unixMs) {
  std::time_t seconds = toSeconds(unixMs);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  return formatDay(tm);
}

std::string utcDay(int64_t unixMs) {
  std::time_t seconds = toSeconds(unixMs);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return formatDay(tm);
}

DurationStats durationStats(std::vector<int64_t> durations) {
  DurationStats stats;
  if (durations.empty()) return stats;
  std::sort(durations.begin(), durations.end());
  stats.count = static_cast<int64_t>(durations.size());
  for (auto d : durations) stats.totalMs += d;
  stats.maxMs = durations.back();
  size_t middle = durations.size() / 2;
  stats.medianMs = durations.size() % 2 ? durations[middle] : (durations[middle - 1] + durations[middle]) / 2;
  return stats;
}

std::vector<DayStats> aggregateHistory(const std::vector<store::BuildRow>& builds,
                                       const std::vector<store::JobRow>& jobs,
                                       std::optional<int64_t> since, const DayOf& dayOf) {
  std::map<std::string, DayBuilder> days;  // ordered by date text = by date
  auto dayFor = [&](int64_t startedAtMs) -> DayBuilder& {
    auto date = dayOf(startedAtMs);
    auto& day = days[date];
    day.stats.date = date;
    return day;
  };
  for (const auto& build : builds) {
    if (since && build.startedAtMs < *since) continue;
    auto& day = dayFor(build.startedAtMs);
    ++day.stats.builds;
    if (build.result && (*build.result == "failed" || *build.result == "abandoned")) ++day.stats.failedBuilds;
    if (build.stoppedAtMs) day.buildDurations.push_back(std::max<int64_t>(0, *build.stoppedAtMs - build.startedAtMs));
  }
  for (const auto& job : jobs) {
    if (since && job.startedAtMs < *since) continue;
    auto& day = dayFor(job.startedAtMs);
    ++day.stats.jobs;
    if (job.status == store::JobStatus::failed || job.status == store::JobStatus::abandoned) ++day.stats.failedJobs;
    if (job.status == store::JobStatus::abandoned) ++day.stats.abandonedJobs;
    if (job.stoppedAtMs) day.jobDurations.push_back(std::max<int64_t>(0, *job.stoppedAtMs - job.startedAtMs));
  }
  std::vector<DayStats> result;
  result.reserve(days.size());
  for (auto& [date, day] : days) {
    day.stats.buildDurations = durationStats(std::move(day.buildDurations));
    day.stats.jobDurations = durationStats(std::move(day.jobDurations));
    result.push_back(std::move(day.stats));
  }
  return result;
}

}  // namespace jobtape::recorder

// The public half (<jobtape/inspect.h>, <jobtape/views.h>).
namespace jobtape {

using recorder::JsonWriter;

std::optional<int64_t> parseSince(std::string_view text, int64_t nowUnixMs) {
  if (auto date = recorder::parseDate(text)) return date;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
  if (auto age = store::parseAge(text)) return nowUnixMs - age->count();
  return std::nullopt;
}

std::string historyJson(const std::vector<DayStats>& days) {
  JsonWriter json(true);
  json.beginObject().key("days").beginArray();
  for (const auto& day : days) {
    json.beginObject();
    json.field("date", day.date);
    json.field("builds", day.builds);
    json.field("failed_builds", day.failedBuilds);
    recorder::writeStats(json, "build_duration", day.buildDurations);
    json.field("jobs", day.jobs);
    json.field("failed_jobs", day.failedJobs);
    json.field("abandoned_jobs", day.abandonedJobs);
    recorder::writeStats(json, "job_duration", day.jobDurations);
    json.endObject();
  }
  json.endArray().endObject();
  return json.take() + "\n";
}

std::string historyBuildsCsv(const std::vector<DayStats>& days) {
  std::string csv = "date,builds,failed_builds,finished_builds,total_duration_ms,median_duration_ms,max_duration_ms\r\n";
  for (const auto& d : days) {
    const auto& s = d.buildDurations;
    csv += fmt::format("{},{},{},{},{},{},{}\r\n", d.date, d.builds, d.failedBuilds, s.count, s.totalMs, s.medianMs,
                       s.maxMs);
  }
  return csv;
}

std::string historyJobsCsv(const std::vector<DayStats>& days) {
  std::string csv =
      "date,jobs,failed_jobs,abandoned_jobs,finished_jobs,total_duration_ms,median_duration_ms,max_duration_ms\r\n";
  for (const auto& d : days) {
    const auto& s = d.jobDurations;
    csv += fmt::format("{},{},{},{},{},{},{},{}\r\n", d.date, d.jobs, d.failedJobs, d.abandonedJobs, s.count,
                       s.totalMs, s.medianMs, s.maxMs);
  }
  return csv;
}

}  // namespace jobtape
