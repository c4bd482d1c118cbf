// The boundary between the events reader and <jobtape/events.h>: what a
// JobEvents holds, and the internal event types as the public ones.
#pragma once

#include <jobtape/events.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "recorder/events/event_reader.h"
#include "store/store.h"

namespace jobtape {

struct JobEvents::Impl {
  std::unique_ptr<recorder::EventReader> reader;
  std::filesystem::path path;
  JobDescription description;
  // The job's status as its store says now (nullopt: the store does not
  // know it); empty for a file read on its own.
  std::function<std::optional<store::JobStatus>()> storeStatus;

  // Whether following should stop: the store says the job ended. Asked at
  // most twice a second.
  bool storeSaysStopped();
  // Whether the store says the job still writes its file.
  bool storeSaysRunning() const;

 private:
  std::chrono::steady_clock::time_point lastAsked_{};
};

}  // namespace jobtape

namespace jobtape::recorder {

OutputStream toPublic(sandbox::Stream stream);
TracingShortfall toPublic(const sandbox::TracingShortfall& shortfall);
jobtape::JobDescription toPublic(const recorder::JobDescription& description);
// nullopt for the description and kinds this library does not know.
std::optional<jobtape::Event> toPublic(const recorder::Event& event);

// A JobEvents over an open reader; `storeStatus` as in JobEvents::Impl.
std::unique_ptr<JobEvents> makeJobEvents(std::unique_ptr<EventReader> reader, std::filesystem::path path,
                                         std::function<std::optional<store::JobStatus>()> storeStatus);

}  // namespace jobtape::recorder
