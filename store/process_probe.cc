#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "store/lease.h"

namespace jobtape::store {

namespace {

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

struct StatFields {
  char state = '?';
  uint64_t startTime = 0;
};

// /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and
// parentheses, so fields are counted from the last ')'. Field 3 is the
// state, field 22 the start time.
std::optional<StatFields> readStat(pid_t pid) {
  std::string content = firstLine("/proc/" + std::to_string(pid) + "/stat");
  auto paren = content.rfind(')');
  if (paren == std::string::npos || paren + 2 >= content.size()) return std::nullopt;
  std::istringstream rest(content.substr(paren + 2));
  StatFields fields;
  std::string field;
  for (int index = 3; rest >> field; ++index) {
    if (index == 3) fields.state = field.empty() ? '?' : field[0];
    if (index == 22) {
      std::from_chars(field.data(), field.data() + field.size(), fields.startTime);
      break;
    }
  }
  return fields;
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

  uint64_t startTime(pid_t pid) override {
    auto fields = readStat(pid);
    return fields ? fields->startTime : 0;
  }

  bool isGone(pid_t pid, uint64_t startTime) override {
    if (pid <= 0) return false;
    if (kill(pid, 0) != 0) return errno == ESRCH;
    // A killed recorder whose parent has not reaped it yet still answers
    // kill(); its state in /proc tells, and so does a reused pid's start time.
    auto fields = readStat(pid);
    if (!fields) return false;
    if (fields->state == 'Z' || fields->state == 'X') return true;
    return startTime != 0 && fields->startTime != 0 && fields->startTime != startTime;
  }

 private:
  std::string owner_;
};

}  // namespace

int64_t leaseTimeoutFromEnvironment() {
  const char* text = std::getenv("JOBTAPE_LEASE_TIMEOUT_MS");
  if (!text || !*text) return kLeaseTimeoutMs;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text, text + std::char_traits<char>::length(text), value);
  if (error != std::errc() || *end != '\0' || value <= 0) return kLeaseTimeoutMs;
  return value;
}

std::shared_ptr<ProcessProbe> systemProcessProbe() {
  static auto probe = std::make_shared<SystemProcessProbe>();
  return probe;
}

}  // namespace jobtape::store
