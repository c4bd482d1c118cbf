// The error classes of the public headers beyond jobtape::Error: what a
// caller of the inspection API tells apart (<jobtape/inspect.h>,
// <jobtape/events.h>, <jobtape/actions.h>).
#include <jobtape/actions.h>
#include <jobtape/events.h>
#include <jobtape/inspect.h>

namespace jobtape {

HomeError::HomeError(Reason reason, const std::string& message, std::string hint, std::exception_ptr cause)
    : Error(Kind::store, message, {}, {}, std::move(cause)), reason_(reason), hint_(std::move(hint)) {}

SelectorError::SelectorError(const std::string& message, std::vector<std::string> candidates)
    : Error(Kind::invalidArgument, message), candidates_(std::move(candidates)) {}

DamagedRecordError::DamagedRecordError(const std::string& message) : Error(Kind::store, message) {}

EventsFileError::EventsFileError(const std::string& message, bool gone) : Error(Kind::io, message), gone_(gone) {}

ActionRefused::ActionRefused(const std::string& message, std::string hint)
    : Error(Kind::invalidArgument, message), hint_(std::move(hint)) {}

}  // namespace jobtape
