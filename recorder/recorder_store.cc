#include "recorder/recorder_store.h"

#include <sqlite3.h>

#include <exception>
#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <system_error>

namespace jobtape::recorder {

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
