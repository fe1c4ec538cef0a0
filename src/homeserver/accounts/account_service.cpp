#include "homeserver/accounts/account_service.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <mutex>

#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "core/worker_pool.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "homeserver/accounts/profile_cache.h"
#include "storage/account_store.h"
#include "storage/database.h"
#include "storage/sql/connection.h"

namespace herald::homeserver {
namespace {
constexpr std::size_t kTokenChars = 43;  // 62^43 > 2^256
constexpr std::size_t kMaxPasswordBytes = 512;
constexpr std::int64_t kSeenWriteIntervalMs = 60'000;
constexpr std::size_t kMaxSeenEntries = 100'000;

std::string new_access_token() { return "hd_" + crypto::random_alnum(kTokenChars); }
}  // namespace

AccountService::AccountService(storage::Database& db, WorkerPool& workers, const Clock& clock, AccountOptions options,
                               ProfileCache* profiles)
    : db_(db), workers_(workers), clock_(clock), options_(std::move(options)), profiles_(profiles) {}

std::string AccountService::new_device_id() const { return crypto::random_upper(10); }

std::string AccountService::validate_new_localpart(std::string_view username) const {
  std::string local = std::string(username);
  std::transform(local.begin(), local.end(), local.begin(), [](unsigned char c) { return std::tolower(c); });
  if (local.empty()) throw MatrixError(Errc::invalid_username, "User ID cannot be empty");
  if (!is_valid_user_localpart(local)) {
    throw MatrixError(Errc::invalid_username, "User ID can only contain characters a-z, 0-9, or '=_-./+'");
  }
  if (local.front() == '_') throw MatrixError(Errc::invalid_username, "User ID may not begin with '_'");
  if (std::all_of(local.begin(), local.end(), [](unsigned char c) { return std::isdigit(c); })) {
    throw MatrixError(Errc::invalid_username, "Numeric user IDs are reserved for guest users");
  }
  if (local.size() + options_.server_name.size() + 2 > 255) {
    throw MatrixError(Errc::invalid_username, "User ID may not be longer than 255 characters");
  }
  return local;
}

Task<void> AccountService::require_available(std::string localpart) {
  const std::string user_id = UserId::from_parts(localpart, options_.server_name).str();
  const bool taken = co_await db_.read([&](storage::sql::Connection& c) { return storage::account_store::user_exists(c, user_id); });
  if (taken) throw MatrixError(Errc::user_in_use, "User ID already taken.");
}

Task<bool> AccountService::user_exists(UserId user_id) {
  const std::string id = user_id.str();
  co_return co_await db_.read([&](storage::sql::Connection& c) { return storage::account_store::user_exists(c, id); });
}

Task<std::optional<Profile>> AccountService::profile(UserId user_id) {
  const std::string id = user_id.str();
  const auto user = co_await db_.read([&](storage::sql::Connection& c) { return storage::account_store::find_user(c, id); });
  if (!user) co_return std::nullopt;
  co_return Profile{user->displayname, user->avatar_url};
}

namespace {
struct PreparedAccount {
  storage::StoredUser user;
  std::optional<std::string> device_id;
  std::optional<std::string> token;
  std::optional<std::string> token_hash;
};

LoginResult write_account(storage::sql::Connection& c, const PreparedAccount& p, const NewAccount& a, std::int64_t now) {
  if (!storage::account_store::insert_user(c, p.user, now)) throw MatrixError(Errc::user_in_use, "User ID already taken.");
  LoginResult result{p.user.user_id, std::nullopt, std::nullopt};
  if (p.token) {
    storage::account_store::ensure_device(c, p.user.user_id, *p.device_id, a.initial_device_display_name, now);
    storage::account_store::insert_token(c, *p.token_hash, p.user.user_id, *p.device_id, now);
    result.access_token = p.token;
    result.device_id = p.device_id;
  }
  return result;
}
}  // namespace

Task<LoginResult> AccountService::register_account(NewAccount account) {
  if (account.password && account.password->size() > kMaxPasswordBytes) {
    throw MatrixError(Errc::bad_json, "Password too long");
  }
  PreparedAccount p;
  p.user.user_id = UserId::from_parts(account.localpart, options_.server_name).str();
  p.user.is_admin = account.is_admin;
  p.user.displayname = account.localpart;  // clients show it instead of the raw Matrix ID (issue 11 item 7)
  if (account.password) {
    const std::string password = *account.password;
    const crypto::PasswordCost cost = options_.password_cost;
    // Named before the co_await: GCC 12 double-frees capturing lambdas built inside one (toolchain.md).
    auto hash_fn = [password, cost] { return crypto::hash_password(password, cost); };
    p.user.password_hash = co_await workers_.run(std::move(hash_fn));
  }
  if (!account.inhibit_login) {
    p.device_id = account.device_id.value_or(new_device_id());
    p.token = new_access_token();
    p.token_hash = crypto::sha256_hex(*p.token);
  }
  const std::int64_t now = clock_.now_ms();
  // A new account is often invited next: its profile is cached in the same writer job that stores it.
  LoginResult result;
  try {
    result = co_await db_.write([&](storage::sql::Connection& c) {
      LoginResult written = write_account(c, p, account, now);
      if (profiles_) profiles_->put(p.user.user_id, Profile{p.user.displayname, p.user.avatar_url});
      return written;
    });
  } catch (...) {
    if (profiles_) profiles_->erase(p.user.user_id);
    throw;
  }
  if (p.token) remember(*p.token_hash, Session{UserId::parse(p.user.user_id).value(), *p.device_id});
  co_return result;
}

LoginResult AccountService::register_account_sync(const NewAccount& account) {
  PreparedAccount p;
  p.user.user_id = UserId::from_parts(account.localpart, options_.server_name).str();
  p.user.is_admin = account.is_admin;
  p.user.displayname = account.localpart;  // clients show it instead of the raw Matrix ID (issue 11 item 7)
  if (account.password) p.user.password_hash = crypto::hash_password(*account.password, options_.password_cost);
  std::optional<LoginResult> result;
  const std::int64_t now = clock_.now_ms();
  db_.write_sync([&](storage::sql::Connection& c) { result = write_account(c, p, account, now); });
  return *result;
}

Task<std::optional<LoginResult>> AccountService::login_with_password(UserId user_id, std::string password,
                                                                     std::optional<std::string> device_id,
                                                                     std::optional<std::string> device_display_name) {
  if (password.size() > kMaxPasswordBytes) co_return std::nullopt;
  const std::string id = user_id.str();
  const auto user = co_await db_.read([&](storage::sql::Connection& c) { return storage::account_store::find_user(c, id); });
  if (!user || !user->password_hash) co_return std::nullopt;
  if (user->deactivated) throw MatrixError(Errc::user_deactivated, "This account has been deactivated");
  const std::string hash = *user->password_hash;
  auto verify_fn = [hash, password] { return crypto::verify_password(hash, password); };
  const bool ok = co_await workers_.run(std::move(verify_fn));
  if (!ok) co_return std::nullopt;

  const std::string device = device_id.value_or(new_device_id());
  const std::string token = new_access_token();
  const std::string token_hash = crypto::sha256_hex(token);
  const std::int64_t now = clock_.now_ms();
  // Logging in with an existing device ID replaces that device's older tokens.
  const std::vector<std::string> replaced = co_await db_.write([&](storage::sql::Connection& c) {
    storage::account_store::ensure_device(c, id, device, device_display_name, now);
    auto old = storage::account_store::delete_device_tokens(c, id, device);
    storage::account_store::insert_token(c, token_hash, id, device, now);
    return old;
  });
  forget_tokens(replaced);
  remember(token_hash, Session{user_id, device});
  co_return LoginResult{id, token, device};
}

Task<std::optional<Session>> AccountService::session_for_token(std::string token) {
  if (token.empty() || token.size() > 512) co_return std::nullopt;
  const std::string token_hash = crypto::sha256_hex(token);
  {
    std::shared_lock lock(sessions_mutex_);
    if (auto it = sessions_.find(token_hash); it != sessions_.end()) co_return it->second;
  }
  // A logout that lands while this read is in flight must not be undone by caching what it read: when any
  // logout happened meanwhile, read again (the logout's delete has committed by then).
  for (int attempt = 0;; ++attempt) {
    const std::uint64_t generation = logout_generation_.load();
    const auto stored =
        co_await db_.read([&](storage::sql::Connection& c) { return storage::account_store::find_session(c, token_hash); });
    if (!stored) co_return std::nullopt;
    auto user_id = UserId::parse(stored->user_id);
    if (!user_id) co_return std::nullopt;
    Session session{std::move(*user_id), stored->device_id};
    std::unique_lock lock(sessions_mutex_);
    if (logout_generation_.load() == generation) {
      sessions_.insert_or_assign(token_hash, session);
      co_return session;
    }
    if (attempt == 3) co_return session;  // valid when read; just not cached
  }
}

// The one place a device is deleted (logout, logout/all, DELETE /devices, /delete_devices): its tokens and
// the device row go in one transaction, and the caches forget the tokens afterwards.
AccountService::DeletedDevices AccountService::delete_devices_in(storage::sql::Connection& c, const std::string& user_id,
                                                                 const std::vector<std::string>& device_ids) {
  DeletedDevices deleted;
  for (const std::string& device_id : device_ids) {
    std::vector<std::string> tokens = storage::account_store::delete_device(c, user_id, device_id);
    deleted.token_hashes.insert(deleted.token_hashes.end(), tokens.begin(), tokens.end());
    if (device_deleted_) deleted.after_commit.push_back(device_deleted_(c, user_id, device_id));
  }
  return deleted;
}

Task<void> AccountService::logout(Session session) {
  std::vector<std::string> devices{session.device_id};
  co_await delete_devices(session.user_id, std::move(devices));
}

Task<void> AccountService::logout_all(UserId user_id) {
  const std::string user = user_id.str();
  const auto deleted = co_await db_.write([&](storage::sql::Connection& c) {
    std::vector<std::string> device_ids;
    for (const auto& d : storage::account_store::devices_of(c, user)) device_ids.push_back(d.device_id);
    auto result = delete_devices_in(c, user, device_ids);
    // Tokens without a device row (none are written that way today) go too.
    auto rest = storage::account_store::delete_all_devices(c, user);
    result.token_hashes.insert(result.token_hashes.end(), rest.begin(), rest.end());
    return result;
  });
  forget_tokens(deleted.token_hashes);
  for (const auto& after : deleted.after_commit)
    if (after) after();
}

Task<void> AccountService::delete_devices(UserId user_id, std::vector<std::string> device_ids) {
  const std::string user = user_id.str();
  const auto deleted =
      co_await db_.write([&](storage::sql::Connection& c) { return delete_devices_in(c, user, device_ids); });
  forget_tokens(deleted.token_hashes);
  for (const auto& after : deleted.after_commit)
    if (after) after();
  std::lock_guard lock(seen_mutex_);
  for (const auto& d : device_ids) seen_written_.erase(user + '\n' + d);
}

namespace {
DeviceInfo device_info(storage::StoredDevice d) {
  return DeviceInfo{std::move(d.device_id), std::move(d.display_name), d.last_seen_ts, std::move(d.last_seen_ip)};
}
}  // namespace

Task<std::vector<DeviceInfo>> AccountService::devices(UserId user_id) {
  const std::string user = user_id.str();
  auto stored =
      co_await db_.read([&](storage::sql::Connection& c) { return storage::account_store::devices_of(c, user); });
  std::vector<DeviceInfo> out;
  out.reserve(stored.size());
  for (auto& d : stored) out.push_back(device_info(std::move(d)));
  co_return out;
}

Task<std::optional<DeviceInfo>> AccountService::device(UserId user_id, std::string device_id) {
  const std::string user = user_id.str();
  auto stored = co_await db_.read(
      [&](storage::sql::Connection& c) { return storage::account_store::find_device(c, user, device_id); });
  if (!stored) co_return std::nullopt;
  co_return device_info(std::move(*stored));
}

Task<bool> AccountService::rename_device(UserId user_id, std::string device_id, std::optional<std::string> display_name) {
  const std::string user = user_id.str();
  co_return co_await db_.write([&](storage::sql::Connection& c) {
    return storage::account_store::set_device_display_name(c, user, device_id, display_name);
  });
}

Task<bool> AccountService::check_password(UserId user_id, std::string password) {
  if (password.size() > kMaxPasswordBytes) co_return false;
  const std::string id = user_id.str();
  const auto user = co_await db_.read([&](storage::sql::Connection& c) { return storage::account_store::find_user(c, id); });
  if (!user || !user->password_hash || user->deactivated) co_return false;
  const std::string hash = *user->password_hash;
  auto verify_fn = [hash, password] { return crypto::verify_password(hash, password); };
  co_return co_await workers_.run(std::move(verify_fn));
}

Task<void> AccountService::note_seen(Session session, std::string ip) {
  const std::int64_t now = clock_.now_ms();
  std::string key = session.user_id.str() + '\n' + session.device_id;
  {
    std::lock_guard lock(seen_mutex_);
    auto [it, inserted] = seen_written_.try_emplace(key, now);
    if (!inserted) {
      if (now - it->second < kSeenWriteIntervalMs) co_return;
      it->second = now;
    }
    if (seen_written_.size() > kMaxSeenEntries) {
      std::erase_if(seen_written_, [now](const auto& kv) { return now - kv.second >= kSeenWriteIntervalMs; });
    }
  }
  // Not awaited: the request goes on while the writer records the use.
  auto write = [this, user = session.user_id.str(), device = session.device_id, ip = std::move(ip), now]() -> Task<void> {
    co_await db_.write([&](storage::sql::Connection& c) {
      storage::account_store::record_device_seen(c, user, device, now, ip);
    });
  };
  const auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::co_spawn(executor, std::move(write), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::warn("device last-seen write failed error={}", ex.what());
    }
  });
}

void AccountService::forget_tokens(const std::vector<std::string>& hashes) {
  std::unique_lock lock(sessions_mutex_);
  ++logout_generation_;
  for (const auto& h : hashes) sessions_.erase(h);
}

void AccountService::remember(const std::string& token_hash, Session session) {
  std::unique_lock lock(sessions_mutex_);
  sessions_.insert_or_assign(token_hash, std::move(session));
}

}  // namespace herald::homeserver
