#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "store/lease.h"

namespace jobtape::store {

namespace {

std::string firstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

class SystemProcessProbe final : public ProcessProbe {
 public:
  SystemProcessProbe() {
    std::string boot = firstLine("/proc/sys/kernel/random/boot_id");
    char ns[128] = {};
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    owner_ = (boot.empty() ? std::string("unknown-boot") : boot) + ":" +
             (n > 0 ? std::string(ns, static_cast<size_t>(n)) : std::string("unknown-pidns"));
  }

  std::string leaseOwner() override { return owner_; }

  bool isGone(pid_t pid) override {
    if (pid <= 0) return false;
    if (kill(pid, 0) != 0) return errno == ESRCH;
    // A killed recorder whose parent has not reaped it yet still answers
    // kill(); its state in /proc tells.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string content;
    if (!std::getline(stat, content)) return false;
    auto paren = content.rfind(')');
    if (paren == std::string::npos || paren + 2 >= content.size()) return false;
    char state = content[paren + 2];
    return state == 'Z' || state == 'X';
  }

 private:
  std::string owner_;
};

}  // namespace

std::shared_ptr<ProcessProbe> systemProcessProbe() {
  static auto probe = std::make_shared<SystemProcessProbe>();
  return probe;
}

}  // namespace jobtape::store
