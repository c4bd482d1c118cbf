#include "recorder/recorder_store.h"

#include <exception>
#include <jobtape/inspect.h>
#include <jobtape/recorder.h>
#include <system_error>

namespace jobtape::recorder {

void rethrowAsStoreError() {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const store::SqliteError& error) {
    throw Error(Error::Kind::store, std::string("store: ") + error.what(), {}, {},
                std::current_exception());
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
