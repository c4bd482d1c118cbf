// SHA-256 as lowercase hex: the recipe hash and the project hash.
#pragma once

#include <span>
#include <string>

namespace jobtape::sandbox {

std::string sha256Hex(std::span<const unsigned char> bytes);

}  // namespace jobtape::sandbox
