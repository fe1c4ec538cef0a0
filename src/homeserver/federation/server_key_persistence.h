#pragma once
// The remote key store's persistence in the homeserver database (server_keys_json): fetched key objects
// are saved after each fetch (a write job, never inside another transaction) and loaded at start-up.
#include "federation/remote_key_store.h"

namespace herald {
class Clock;
}
namespace herald::storage {
class Database;
}

namespace herald::homeserver {

class DatabaseKeyPersistence final : public federation::KeyPersistence {
 public:
  DatabaseKeyPersistence(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Task<void> save(federation::ServerKeys keys) override;

  // Start-up (blocking; not on an io thread): every stored object that still checks out goes into `store`.
  // Returns how many.
  static std::size_t load_into(storage::Database& db, federation::RemoteKeyStore& store);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace herald::homeserver
