// Opening from a test a store that the binary made as another user.
//
// jobtape refuses a store that is not the caller's own, the test's own
// Store::open included. A test running as root that recorded jobs as
// `nobody` reads their store as its owner: with that user's effective ids
// for the open (SQLite opens the database, its WAL and shared memory then),
// root's again after.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "store/store.h"

namespace jobtape::testing {

class EffectiveOwnerOf {
 public:
  explicit EffectiveOwnerOf(const std::filesystem::path& home) {
    struct stat st {};
    if (::geteuid() != 0 || ::stat(home.c_str(), &st) != 0 || st.st_uid == 0) return;
    if (::setegid(st.st_gid) != 0 || ::seteuid(st.st_uid) != 0) throw std::runtime_error("cannot become the store's owner");
    switched_ = true;
  }
  ~EffectiveOwnerOf() {
    if (switched_ && (::seteuid(0) != 0 || ::setegid(0) != 0)) std::abort();
  }
  EffectiveOwnerOf(const EffectiveOwnerOf&) = delete;
  EffectiveOwnerOf& operator=(const EffectiveOwnerOf&) = delete;

 private:
  bool switched_ = false;
};

inline std::unique_ptr<store::Store> openStoreAsOwner(const std::filesystem::path& home) {
  EffectiveOwnerOf owner(home);
  return store::Store::open(home);
}

inline std::unique_ptr<store::Store> openExistingStoreAsOwner(const std::filesystem::path& home) {
  EffectiveOwnerOf owner(home);
  return store::Store::openReadOnlyIfExists(home);
}

}  // namespace jobtape::testing
