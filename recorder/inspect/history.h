// `jobtape history`: builds and jobs aggregated per day, for people (a
// table), their scripts (JSON) and their spreadsheets (CSV).
//
// A build or job belongs to the local calendar day it started on. Durations
// count finished ones only (stopped - started, in ms); the median of an even
// count is the mean of the two middle values, rounded down. Failed jobs
// include abandoned ones (their recorder died), which are also counted on
// their own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace jobtape::recorder {

struct DurationStats {
  int64_t count = 0;  // finished ones
  int64_t totalMs = 0;
  int64_t medianMs = 0;
  int64_t maxMs = 0;
};

struct DayStats {
  std::string date;  // YYYY-MM-DD
  int64_t builds = 0;
  int64_t failedBuilds = 0;
  DurationStats buildDurations;
  int64_t jobs = 0;
  int64_t failedJobs = 0;  // failed + abandoned
  int64_t abandonedJobs = 0;
  DurationStats jobDurations;
};

// The calendar day of a unix time: local time unless told otherwise.
using DayOf = std::function<std::string(int64_t unixMs)>;
std::string localDay(int64_t unixMs);
std::string utcDay(int64_t unixMs);

DurationStats durationStats(std::vector<int64_t> durationsMs);

// Days with any build or job started at or after `sinceUnixMs`, oldest first.
std::vector<DayStats> aggregateHistory(const std::vector<store::BuildRow>& builds,
                                       const std::vector<store::JobRow>& jobs,
                                       std::optional<int64_t> sinceUnixMs, const DayOf& dayOf = localDay);

// --since: "YYYY-MM-DD" (local midnight) or an age such as "7d", "12h"
// (that long before `nowUnixMs`). nullopt for anything else, including dates
// that do not exist (2026-02-30).
std::optional<int64_t> parseSince(std::string_view text, int64_t nowUnixMs);

std::string historyJson(const std::vector<DayStats>& days);
// CSV (RFC 4180, header line first): per-day builds and per-day jobs.
std::string buildsCsv(const std::vector<DayStats>& days);
std::string jobsCsv(const std::vector<DayStats>& days);

}  // namespace jobtape::recorder
