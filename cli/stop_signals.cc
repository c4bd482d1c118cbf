#include "cli/stop_signals.h"

#include <atomic>

namespace jobtape::cli {

namespace {

std::atomic<CancelToken*> activeToken{nullptr};
static_assert(std::atomic<CancelToken*>::is_always_lock_free);

extern "C" void onStopSignal(int signal) {
  if (CancelToken* token = activeToken.load()) token->request(signal);
}

// Does nothing: the write that met the closed pipe fails with EPIPE.
extern "C" void onBrokenPipe(int) {}

}  // namespace

StopSignals::StopSignals(CancelToken& token) {
  activeToken.store(&token);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
    struct sigaction action {};
    action.sa_handler = signal == SIGPIPE ? onBrokenPipe : onStopSignal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    struct sigaction previous {};
    if (::sigaction(signal, &action, &previous) == 0) previous_.emplace_back(signal, previous);
  }
}

StopSignals::~StopSignals() {
  for (auto& [signal, previous] : previous_) ::sigaction(signal, &previous, nullptr);
  activeToken.store(nullptr);
}

}  // namespace jobtape::cli
