// jobtape's init program: what the sandbox's pid 1 execs (init_image.h).
//
//   jobtape-sandbox-init PLAN_FD CHANNEL_FD
//
// PLAN_FD holds the plan (init_plan.h), CHANNEL_FD is the channel to the
// supervisor, where a plan that cannot be followed is reported. Started any
// other way it does nothing: it is not a program for people.
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>

#include "sandbox/capabilities.h"
#include "sandbox/init_plan.h"
#include "sandbox/run_outcome.h"
#include "sandbox/sandbox_init.h"

namespace {

int fdArgument(const char* text) {
  int fd = -1;
  std::string_view s(text);
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), fd);
  return error == std::errc() && end == s.data() + s.size() && fd >= 0 ? fd : -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace jobtape::sandbox;
  const int planFd = argc == 3 ? fdArgument(argv[1]) : -1;
  const int channel = argc == 3 ? fdArgument(argv[2]) : -1;
  if (planFd < 0 || channel < 0) {
    static constexpr char kUsage[] = "jobtape-sandbox-init: started only by jobtape, as the sandbox's pid 1\n";
    (void)::write(2, kUsage, sizeof kUsage - 1);
    return kExitSetupFailed;
  }
  (void)::prctl(PR_SET_NAME, "jobtape-init", 0, 0, 0);  // not the memfd's name, in ps and top
  // Kept open across this exec only; the main process's must close it.
  if (::fcntl(channel, F_SETFD, FD_CLOEXEC) < 0) return kExitSetupFailed;
  if (StageError e = forgetExecCapabilities()) initFailed(channel, e.step, e.error);
  OwnedChildPlan owned;
  std::string why;
  if (!readInitPlan(planFd, owned, &why) || owned.plan.channel != channel) initFailed(channel, SetupStep::initPlan, EBADMSG);
  ::close(planFd);
  runInit(owned.plan);
}
