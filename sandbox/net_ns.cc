#include "sandbox/net_ns.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jobtape::sandbox {

int bringUpLoopback() noexcept {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return errno;
  struct ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ::ioctl(sock, SIOCGIFFLAGS, &req);
  if (rc == 0) {
    req.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ::ioctl(sock, SIOCSIFFLAGS, &req);
  }
  int e = rc < 0 ? errno : 0;
  ::close(sock);
  return e;
}

}  // namespace jobtape::sandbox
