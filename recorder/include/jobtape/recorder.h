// jobtape: an embeddable build-event recorder for sandboxed job execution.
//
// This is the whole public API. It uses only standard C++ types so that a
// build tool needs nothing but this header and `pkg-config jobtape`.
#pragma once

namespace jobtape {

// The library's version, e.g. "0.1.0".
const char* version() noexcept;

}  // namespace jobtape
