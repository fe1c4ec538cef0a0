#pragma once
// Users, devices and access tokens, in portable SQL. Functions run inside a Database job.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

struct StoredUser {
  std::string user_id;
  std::optional<std::string> password_hash;
  bool deactivated = false;
  bool is_admin = false;
  std::optional<std::string> displayname;
  std::optional<std::string> avatar_url;
};

struct StoredSession {
  std::string user_id;
  std::string device_id;
};

namespace account_store {

bool user_exists(sql::Connection& c, const std::string& user_id);
// False when the user ID is taken.
bool insert_user(sql::Connection& c, const StoredUser& user, std::int64_t now_ms);
std::optional<StoredUser> find_user(sql::Connection& c, const std::string& user_id);
void set_displayname(sql::Connection& c, const std::string& user_id, const std::optional<std::string>& displayname);
void set_avatar_url(sql::Connection& c, const std::string& user_id, const std::optional<std::string>& avatar_url);
// Creates the device, or keeps it (and its display name) when it exists.
void ensure_device(sql::Connection& c, const std::string& user_id, const std::string& device_id,
                   const std::optional<std::string>& display_name, std::int64_t now_ms);
void insert_token(sql::Connection& c, const std::string& token_hash, const std::string& user_id,
                  const std::string& device_id, std::int64_t now_ms);
std::optional<StoredSession> find_session(sql::Connection& c, const std::string& token_hash);
// Deletes the tokens of one device; returns their hashes so caches can forget them.
std::vector<std::string> delete_device_tokens(sql::Connection& c, const std::string& user_id, const std::string& device_id);
// Deletes one device and its tokens.
std::vector<std::string> delete_device(sql::Connection& c, const std::string& user_id, const std::string& device_id);
// Deletes every device and token of the user.
std::vector<std::string> delete_all_devices(sql::Connection& c, const std::string& user_id);
std::int64_t count_users(sql::Connection& c);

}  // namespace account_store
}  // namespace herald::storage

namespace herald::storage {
struct StoredDevice {
  std::string device_id;
  std::optional<std::string> display_name;
  std::optional<std::int64_t> last_seen_ts;
  std::optional<std::string> last_seen_ip;
};
}  // namespace herald::storage

namespace herald::storage::account_store {
std::vector<StoredDevice> devices_of(sql::Connection& c, const std::string& user_id);
std::optional<StoredDevice> find_device(sql::Connection& c, const std::string& user_id, const std::string& device_id);
// False when the user has no such device.
bool set_device_display_name(sql::Connection& c, const std::string& user_id, const std::string& device_id,
                             const std::optional<std::string>& display_name);
void record_device_seen(sql::Connection& c, const std::string& user_id, const std::string& device_id, std::int64_t ts_ms,
                        const std::string& ip);
}  // namespace herald::storage::account_store

namespace herald::storage::account_store {
// OpenID tokens a user hands to an identity server (stored as SHA-256).
void insert_openid_token(sql::Connection& c, const std::string& token_hash, const std::string& user_id, std::int64_t expires_ms);
// The user of an unexpired token; expired tokens are deleted on the way.
std::optional<std::string> find_openid_user(sql::Connection& c, const std::string& token_hash, std::int64_t now_ms);
}  // namespace herald::storage::account_store

namespace herald::storage::account_store {
struct StoredThreepid {
  std::string medium;
  std::string address;
  std::int64_t validated_at = 0;
  std::int64_t added_at = 0;
};
std::vector<StoredThreepid> threepids_of(sql::Connection& c, const std::string& user_id);
// Records the address as the user's (taking it from anyone else) and the identity server it is bound at.
void add_threepid(sql::Connection& c, const std::string& user_id, const StoredThreepid& t, const std::optional<std::string>& id_server);
// Forgets the identity-server bindings of the address; with `remove`, the address itself too.
void remove_threepid(sql::Connection& c, const std::string& user_id, const std::string& medium, const std::string& address,
                     bool remove);
// The identity servers the user's address was bound at through this homeserver.
std::vector<std::string> threepid_id_servers(sql::Connection& c, const std::string& user_id, const std::string& medium,
                                             const std::string& address);
// The account the address belongs to, if any.
std::optional<std::string> threepid_owner(sql::Connection& c, const std::string& medium, const std::string& address);
}  // namespace herald::storage::account_store
