#include "sandbox/sha256.h"

// nettle rather than OpenSSL: no library initialisation at process start
// (OpenSSL's cost ~0.8 ms per command for one digest), and it cannot fail.
#include <nettle/sha2.h>

namespace jobtape::sandbox {

std::string sha256Hex(std::span<const unsigned char> bytes) {
  sha256_ctx context;
  sha256_init(&context);
  sha256_update(&context, bytes.size(), bytes.data());
  unsigned char digest[SHA256_DIGEST_SIZE];
  sha256_digest(&context, sizeof digest, digest);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * SHA256_DIGEST_SIZE);
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xF];
  }
  return hex;
}

}  // namespace jobtape::sandbox
