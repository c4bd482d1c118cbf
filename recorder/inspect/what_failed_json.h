// The JSON form of what failed in a job (`job show --json`:
// `failed_processes`). docs/JSON.md documents the shapes (failed_process,
// recorded_process, output_window, output_line).
#pragma once

#include <jobtape/what_failed.h>

#include "recorder/inspect/json_text.h"

namespace jobtape::recorder {

// An array of failed_process.
void writeFailedProcessesJson(JsonWriter& json, const WhatFailed& failed);

}  // namespace jobtape::recorder
