#pragma once
// The third-party identifiers (email addresses...) of local accounts, and the identity servers each was
// bound at through this homeserver.
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/task.h"
#include "storage/account_store.h"

namespace herald::storage {
class Database;
}

namespace herald::homeserver {

class Threepids {
 public:
  explicit Threepids(storage::Database& db) : db_(db) {}

  Task<std::vector<storage::account_store::StoredThreepid>> of(UserId user);
  // Makes the address the user's (taking it from anyone else); `id_server`: where it is now bound.
  Task<void> add(UserId user, storage::account_store::StoredThreepid threepid, std::optional<std::string> id_server);
  Task<std::vector<std::string>> bound_at(UserId user, std::string medium, std::string address);
  // Forgets where the address is bound; the account keeps it.
  Task<void> forget_bindings(UserId user, std::string medium, std::string address);
  // Forgets the bindings and takes the address off the account.
  Task<void> remove(UserId user, std::string medium, std::string address);
  Task<bool> in_use(std::string medium, std::string address);

 private:
  storage::Database& db_;
};

}  // namespace herald::homeserver
