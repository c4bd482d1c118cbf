#include "recorder/recorder_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <system_error>

#include "recorder/events/reusable_threads.h"

namespace jobtape::recorder {

LockedStore::~LockedStore() {
  std::lock_guard lock(checkpointMutex_);
  if (checkpoint_.valid() && checkpointStartedBy_ == ::getpid()) checkpoint_.wait();
}

void LockedStore::checkpointInBackground() noexcept {
  try {
    std::lock_guard lock(checkpointMutex_);
    if (checkpoint_.valid() && checkpoint_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    if (!with([](store::Store& s) { return s.checkpointDue(); })) return;
    checkpointStartedBy_ = ::getpid();
    checkpoint_ = ReusableThreads::shared().run([this] {
      try {
        with([](store::Store& s) { s.checkpoint(); });
      } catch (...) {
        // Left for the next job; the WAL only grows meanwhile.
      }
    });
  } catch (...) {
    // No thread: the next job tries again, and commits checkpoint by
    // themselves past the store's backstop.
  }
}

std::string plainStoreFailure(const Error& error) {
  try {
    if (error.cause()) std::rethrow_exception(error.cause());
  } catch (const store::SqliteError& sqlite) {
    return sqlite3_errstr(sqlite.extendedCode());
  } catch (...) {
  }
  return error.what();
}

void rethrowAsStoreError() {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const store::SqliteError& error) {
    throw Error(Error::Kind::store, std::string("store: ") + error.what(), {}, {},
                std::current_exception());
  } catch (const store::StoreDamagedError& error) {
    throw HomeError(HomeError::Reason::damaged, error.what(), error.hint(), std::current_exception());
  } catch (const store::StoreUnsafeError& error) {
    // An unsafe home carries the command that fixes it.
    throw HomeError(HomeError::Reason::unsafe, error.what(), error.hint(), std::current_exception());
  } catch (const store::StoreOpenError& error) {
    throw Error(Error::Kind::store, error.what(), {}, {}, std::current_exception());
  } catch (const std::system_error& error) {
    throw Error(Error::Kind::store, std::string("store: ") + error.what(), {}, error.code(),
                std::current_exception());
  } catch (const std::exception& error) {
    throw Error(Error::Kind::store, std::string("store: ") + error.what(), {}, {},
                std::current_exception());
  }
}

}  // namespace jobtape::recorder
