#include "sandbox/run_result.h"

namespace jobtape::sandbox {

const char* outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::exited: return "exited";
    case Outcome::signaled: return "signaled";
    case Outcome::timedOut: return "timed-out";
    case Outcome::setupFailed: return "setup-failed";
    case Outcome::commandNotFound: return "command-not-found";
    case Outcome::notExecutable: return "not-executable";
    case Outcome::seccompViolation: return "seccomp-violation";
    case Outcome::cancelled: return "cancelled";
  }
  return "unknown";
}

}  // namespace jobtape::sandbox
