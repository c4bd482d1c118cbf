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

#include <jobtape/inspect.h>
#include <jobtape/views.h>

#include "store/store.h"

namespace jobtape::recorder {

// The plain figures are the public ones (<jobtape/inspect.h>).
using jobtape::DayStats;
using jobtape::DurationStats;

// The calendar day of a unix time: local time unless told otherwise.
using DayOf = std::function<std::string(int64_t unixMs)>;
std::string localDay(int64_t unixMs);
std::string utcDay(int64_t unixMs);

DurationStats durationStats(std::vector<int64_t> durationsMs);

// Days with any build or job started at or after `sinceUnixMs`, oldest first.
std::vector<DayStats> aggregateHistory(const std::vector<store::BuildRow>& builds,
                                       const std::vector<store::JobRow>& jobs,
                                       std::optional<int64_t> sinceUnixMs, const DayOf& dayOf = localDay);

// parseSince, historyJson and the CSV files are public (<jobtape/views.h>).

}  // namespace jobtape::recorder
