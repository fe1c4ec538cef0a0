#pragma once
// Invitations stored for unbound addresses and the ephemeral public keys handed out with them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage::sql {
class Connection;
}

namespace herald::identity {

struct StoredInvite {
  std::string token;
  std::string medium;
  std::string address;
  std::string room_id;
  std::string sender;
  std::string ephemeral_public_key;
  std::int64_t received_ts = 0;
};

namespace invite_store {

void insert(storage::sql::Connection& c, const StoredInvite& invite);
// Undoes insert() (the email could not be sent).
void remove(storage::sql::Connection& c, const std::string& token);
std::optional<StoredInvite> find(storage::sql::Connection& c, const std::string& token);
// Invites for the address not yet handed to an onbind delivery; marks them sent at now_ms.
std::vector<StoredInvite> take_pending(storage::sql::Connection& c, const std::string& medium, const std::string& address,
                                       std::int64_t now_ms);
// After a delivery: the invites are done with.
void delete_tokens(storage::sql::Connection& c, const std::vector<std::string>& tokens);
bool ephemeral_key_exists(storage::sql::Connection& c, const std::string& public_key);

}  // namespace invite_store
}  // namespace herald::identity
