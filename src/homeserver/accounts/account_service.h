#pragma once
// Accounts, devices and access tokens: registration, password login, logout, token lookup.
// Token lookups are served from memory after the first use; argon2id runs on the worker pool.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ids.h"
#include "core/task.h"
#include "crypto/password.h"
#include "homeserver/accounts/profile_cache.h"

namespace herald {
class Clock;
class WorkerPool;
namespace storage {
class Database;
namespace sql {
class Connection;
}
}
}  // namespace herald

namespace herald::homeserver {

struct AccountOptions {
  std::string server_name;
  crypto::PasswordCost password_cost = crypto::PasswordCost::interactive();
};

struct Session {
  UserId user_id;
  std::string device_id;
};

struct NewAccount {
  std::string localpart;                // already validated
  std::optional<std::string> password;  // none: the account cannot log in with a password
  std::optional<std::string> device_id;
  std::optional<std::string> initial_device_display_name;
  bool inhibit_login = false;
  bool is_admin = false;
};

struct DeviceInfo {
  std::string device_id;
  std::optional<std::string> display_name;
  std::optional<std::int64_t> last_seen_ts;
  std::optional<std::string> last_seen_ip;
};

struct LoginResult {
  std::string user_id;
  std::optional<std::string> access_token;  // absent with inhibit_login
  std::optional<std::string> device_id;
};

class AccountService {
 public:
  // `profiles`, when given, learns each new account's profile (as it is written).
  AccountService(storage::Database& db, WorkerPool& workers, const Clock& clock, AccountOptions options,
                 ProfileCache* profiles = nullptr);

  const std::string& server_name() const { return options_.server_name; }

  // Normalises a requested username (lower-cased) and checks the grammar; throws M_INVALID_USERNAME.
  std::string validate_new_localpart(std::string_view username) const;
  // Throws M_USER_IN_USE when taken.
  Task<void> require_available(std::string localpart);
  // Creates the account (and, unless inhibit_login, a device and token). Throws M_USER_IN_USE.
  Task<LoginResult> register_account(NewAccount account);
  // The same for offline tools (no io thread involved).
  LoginResult register_account_sync(const NewAccount& account);

  // Returns nullopt for a wrong password or unknown user (the caller answers 403 either way).
  Task<std::optional<LoginResult>> login_with_password(UserId user_id, std::string password,
                                                       std::optional<std::string> device_id,
                                                       std::optional<std::string> device_display_name);
  // True when `password` is the user's (argon2id on the worker pool); false for a user without one.
  Task<bool> check_password(UserId user_id, std::string password);
  Task<std::optional<Session>> session_for_token(std::string token);
  // Records that the session's device was used from `ip` now: in memory on every call, in the database
  // at most once a minute per device, by a write the caller does not wait for.
  Task<void> note_seen(Session session, std::string ip);
  Task<void> logout(Session session);
  Task<void> logout_all(UserId user_id);

  Task<std::vector<DeviceInfo>> devices(UserId user_id);
  Task<std::optional<DeviceInfo>> device(UserId user_id, std::string device_id);
  // False when the user has no such device.
  Task<bool> rename_device(UserId user_id, std::string device_id, std::optional<std::string> display_name);
  // Deletes the devices (unknown IDs are skipped) and everything that belongs to them; signs them out.
  Task<void> delete_devices(UserId user_id, std::vector<std::string> device_ids);

  // What else goes with a deleted device (its end-to-end keys, its to-device messages): runs inside the
  // deleting transaction; what it returns runs after the commit (e.g. waking /sync). Set once at start-up.
  using DeviceDeletionHook =
      std::function<std::function<void()>(storage::sql::Connection&, const std::string& user, const std::string& device)>;
  void on_device_deleted(DeviceDeletionHook hook) { device_deleted_ = std::move(hook); }

  Task<bool> user_exists(UserId user_id);
  // The user's displayname and avatar_url as stored; nullopt for an unknown user.
  Task<std::optional<Profile>> profile(UserId user_id);

 private:
  std::string new_device_id() const;
  struct DeletedDevices {
    std::vector<std::string> token_hashes;
    std::vector<std::function<void()>> after_commit;
  };
  DeletedDevices delete_devices_in(storage::sql::Connection& c, const std::string& user_id,
                                   const std::vector<std::string>& device_ids);
  DeviceDeletionHook device_deleted_;
  void forget_tokens(const std::vector<std::string>& hashes);
  void remember(const std::string& token_hash, Session session);

  storage::Database& db_;
  WorkerPool& workers_;
  const Clock& clock_;
  AccountOptions options_;
  ProfileCache* profiles_ = nullptr;
  // Sessions by SHA-256(token), hex: the raw token is never stored, even in memory.
  std::shared_mutex sessions_mutex_;
  std::unordered_map<std::string, Session> sessions_;
  std::atomic<std::uint64_t> logout_generation_{0};  // bumped by every logout (see session_for_token)
  // When each device's last use was last written, by "user_id\ndevice_id".
  std::mutex seen_mutex_;
  std::unordered_map<std::string, std::int64_t> seen_written_;
};

}  // namespace herald::homeserver
