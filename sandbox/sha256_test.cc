#include "sandbox/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace jobtape::sandbox {
namespace {

std::string hashOf(const std::string& text) {
  return sha256Hex({reinterpret_cast<const unsigned char*>(text.data()), text.size()});
}

// FIPS 180-2 example vectors.
TEST(Sha256, MatchesThePublishedVectors) {
  EXPECT_EQ(hashOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hashOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hashOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, HashesEveryByteValue) {
  std::vector<unsigned char> bytes(1000000, 'a');
  EXPECT_EQ(sha256Hex(bytes), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  std::vector<unsigned char> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(sha256Hex(all), "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
}

}  // namespace
}  // namespace jobtape::sandbox
