#include "sandbox/init_image.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <string_view>

#include "sandbox/fd_util.h"

// Defined by the generated init_image.S (embed_file.py).
extern "C" const unsigned char jobtape_init_image[];
extern "C" const unsigned char jobtape_init_image_end[];

namespace jobtape::sandbox {

namespace {

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3: executable even where vm.memfd_noexec says otherwise by default
#endif

int makeImage() noexcept {
  constexpr const char* kName = "jobtape-sandbox-init";
  int fd = ::memfd_create(kName, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = ::memfd_create(kName, MFD_CLOEXEC | MFD_ALLOW_SEALING);  // before 6.3
  if (fd < 0) return -1;
  UniqueFd image(fd);
  const std::string_view bytes(reinterpret_cast<const char*>(jobtape_init_image),
                               static_cast<size_t>(jobtape_init_image_end - jobtape_init_image));
  if (!writeAll(image.get(), bytes)) return -1;
  if (::fchmod(image.get(), 0555) < 0) return -1;
  if (::fcntl(image.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) return -1;
  return image.release();
}

}  // namespace

int initImageFd() noexcept {
  static std::mutex mutex;
  static int fd = -1;
  static dev_t device = 0;
  static ino_t inode = 0;
  std::lock_guard lock(mutex);
  struct stat st;
  if (fd >= 0 && (::fstat(fd, &st) < 0 || st.st_dev != device || st.st_ino != inode)) fd = -1;  // not ours now
  if (fd < 0) {
    fd = makeImage();
    if (fd < 0 || ::fstat(fd, &st) < 0) return -1;
    device = st.st_dev;
    inode = st.st_ino;
  }
  return fd;
}

}  // namespace jobtape::sandbox
