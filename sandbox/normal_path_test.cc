#include "sandbox/normal_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace jobtape::sandbox {
namespace {

TEST(NormalPath, OneSpellingForOnePlace) {
  EXPECT_EQ(normalPath("/src/app/"), "/src/app");
  EXPECT_EQ(normalPath("/src/./app//x/.."), "/src/app");
  EXPECT_EQ(normalPath("/"), "/");
  EXPECT_EQ(normalPath("a/b/"), "a/b");
  EXPECT_EQ(normalPath(""), "");
}

TEST(NormalPath, AbsoluteAgainstTheCurrentDirectory) {
  std::error_code error;
  std::filesystem::path cwd = std::filesystem::current_path();
  EXPECT_EQ(absoluteNormalPath("", error), normalPath(cwd));
  EXPECT_EQ(absoluteNormalPath("sub/../x/", error), normalPath(cwd / "x"));
  EXPECT_EQ(absoluteNormalPath("/etc/", error), "/etc");
  EXPECT_FALSE(error);
}

}  // namespace
}  // namespace jobtape::sandbox
