#include "storage/account_store.h"

#include "storage/sql/connection.h"

namespace herald::storage::account_store {

bool user_exists(sql::Connection& c, const std::string& user_id) {
  return c.query_one("SELECT 1 FROM users WHERE user_id = $1", {user_id}).has_value();
}

bool insert_user(sql::Connection& c, const StoredUser& user, std::int64_t now_ms) {
  return c.execute(
             "INSERT INTO users (user_id, password_hash, created_ts, is_admin, displayname, avatar_url) "
             "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO NOTHING",
             {user.user_id, sql::nullable(user.password_hash), now_ms, std::int64_t{user.is_admin ? 1 : 0},
              sql::nullable(user.displayname), sql::nullable(user.avatar_url)}) == 1;
}

std::optional<StoredUser> find_user(sql::Connection& c, const std::string& user_id) {
  auto row = c.query_one(
      "SELECT user_id, password_hash, deactivated, is_admin, displayname, avatar_url FROM users WHERE user_id = $1",
      {user_id});
  if (!row) return std::nullopt;
  return StoredUser{row->get_text(0), row->opt_text(1), row->get_int(2) != 0, row->get_int(3) != 0, row->opt_text(4),
                    row->opt_text(5)};
}

void set_displayname(sql::Connection& c, const std::string& user_id, const std::optional<std::string>& displayname) {
  c.execute("UPDATE users SET displayname = $2 WHERE user_id = $1", {user_id, sql::nullable(displayname)});
}

void set_avatar_url(sql::Connection& c, const std::string& user_id, const std::optional<std::string>& avatar_url) {
  c.execute("UPDATE users SET avatar_url = $2 WHERE user_id = $1", {user_id, sql::nullable(avatar_url)});
}

void ensure_device(sql::Connection& c, const std::string& user_id, const std::string& device_id,
                   const std::optional<std::string>& display_name, std::int64_t now_ms) {
  c.execute(
      "INSERT INTO devices (user_id, device_id, display_name, created_ts) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (user_id, device_id) DO NOTHING",
      {user_id, device_id, sql::nullable(display_name), now_ms});
}

void insert_token(sql::Connection& c, const std::string& token_hash, const std::string& user_id,
                  const std::string& device_id, std::int64_t now_ms) {
  c.execute("INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts) VALUES ($1, $2, $3, $4)",
            {token_hash, user_id, device_id, now_ms});
}

std::optional<StoredSession> find_session(sql::Connection& c, const std::string& token_hash) {
  auto row = c.query_one(
      "SELECT t.user_id, t.device_id FROM access_tokens t JOIN users u ON u.user_id = t.user_id "
      "WHERE t.token_hash = $1 AND u.deactivated = 0",
      {token_hash});
  if (!row) return std::nullopt;
  return StoredSession{row->get_text(0), row->get_text(1)};
}

namespace {
std::vector<std::string> hashes(std::vector<sql::Row> rows) {
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.get_text(0));
  return out;
}
}  // namespace

std::vector<std::string> delete_device_tokens(sql::Connection& c, const std::string& user_id,
                                              const std::string& device_id) {
  return hashes(c.query("DELETE FROM access_tokens WHERE user_id = $1 AND device_id = $2 RETURNING token_hash",
                        {user_id, device_id}));
}

std::vector<std::string> delete_device(sql::Connection& c, const std::string& user_id, const std::string& device_id) {
  auto removed = delete_device_tokens(c, user_id, device_id);
  c.execute("DELETE FROM devices WHERE user_id = $1 AND device_id = $2", {user_id, device_id});
  return removed;
}

std::vector<std::string> delete_all_devices(sql::Connection& c, const std::string& user_id) {
  auto removed = hashes(c.query("DELETE FROM access_tokens WHERE user_id = $1 RETURNING token_hash", {user_id}));
  c.execute("DELETE FROM devices WHERE user_id = $1", {user_id});
  return removed;
}

std::int64_t count_users(sql::Connection& c) {
  auto row = c.query_one("SELECT COUNT(*) FROM users");
  return row ? row->get_int(0) : 0;
}

}  // namespace herald::storage::account_store

namespace herald::storage::account_store {

void insert_openid_token(sql::Connection& c, const std::string& token_hash, const std::string& user_id, std::int64_t expires_ms) {
  c.execute("INSERT INTO openid_tokens (token_hash, user_id, expires_ts) VALUES ($1, $2, $3)", {token_hash, user_id, expires_ms});
}

std::optional<std::string> find_openid_user(sql::Connection& c, const std::string& token_hash, std::int64_t now_ms) {
  auto row = c.query_one("SELECT user_id FROM openid_tokens WHERE token_hash = $1 AND expires_ts > $2", {token_hash, now_ms});
  if (!row) return std::nullopt;
  return row->get_text(0);
}

}  // namespace herald::storage::account_store

namespace herald::storage::account_store {

std::vector<StoredThreepid> threepids_of(sql::Connection& c, const std::string& user_id) {
  std::vector<StoredThreepid> out;
  for (const auto& r : c.query("SELECT medium, address, validated_at, added_at FROM user_threepids WHERE user_id = $1 "
                               "ORDER BY added_at",
                               {user_id})) {
    out.push_back({r.get_text(0), r.get_text(1), r.get_int(2), r.get_int(3)});
  }
  return out;
}

void add_threepid(sql::Connection& c, const std::string& user_id, const StoredThreepid& t, const std::optional<std::string>& id_server) {
  c.execute("DELETE FROM user_threepids WHERE medium = $1 AND address = $2", {t.medium, t.address});
  c.execute("INSERT INTO user_threepids (medium, address, user_id, validated_at, added_at) VALUES ($1, $2, $3, $4, $5)",
            {t.medium, t.address, user_id, t.validated_at, t.added_at});
  if (id_server) {
    c.execute("INSERT INTO user_threepid_id_servers (user_id, medium, address, id_server) VALUES ($1, $2, $3, $4) "
              "ON CONFLICT (user_id, medium, address, id_server) DO NOTHING",
              {user_id, t.medium, t.address, *id_server});
  }
}

void remove_threepid(sql::Connection& c, const std::string& user_id, const std::string& medium, const std::string& address,
                     bool remove) {
  c.execute("DELETE FROM user_threepid_id_servers WHERE user_id = $1 AND medium = $2 AND address = $3", {user_id, medium, address});
  if (remove) {
    c.execute("DELETE FROM user_threepids WHERE user_id = $1 AND medium = $2 AND address = $3", {user_id, medium, address});
  }
}

std::vector<std::string> threepid_id_servers(sql::Connection& c, const std::string& user_id, const std::string& medium,
                                             const std::string& address) {
  std::vector<std::string> out;
  for (const auto& r : c.query("SELECT id_server FROM user_threepid_id_servers WHERE user_id = $1 AND medium = $2 "
                               "AND address = $3",
                               {user_id, medium, address})) {
    out.push_back(r.get_text(0));
  }
  return out;
}

std::optional<std::string> threepid_owner(sql::Connection& c, const std::string& medium, const std::string& address) {
  auto row = c.query_one("SELECT user_id FROM user_threepids WHERE medium = $1 AND address = $2", {medium, address});
  if (!row) return std::nullopt;
  return row->get_text(0);
}

}  // namespace herald::storage::account_store

namespace herald::storage::account_store {
namespace {
constexpr const char* kDeviceColumns = "SELECT device_id, display_name, last_seen_ts, last_seen_ip FROM devices ";
StoredDevice device_of(const sql::Row& r) { return StoredDevice{r.get_text(0), r.opt_text(1), r.opt_int(2), r.opt_text(3)}; }
}  // namespace

std::vector<StoredDevice> devices_of(sql::Connection& c, const std::string& user_id) {
  std::vector<StoredDevice> out;
  for (const auto& r : c.query(std::string(kDeviceColumns) + "WHERE user_id = $1 ORDER BY device_id", {user_id})) {
    out.push_back(device_of(r));
  }
  return out;
}

std::optional<StoredDevice> find_device(sql::Connection& c, const std::string& user_id, const std::string& device_id) {
  auto row = c.query_one(std::string(kDeviceColumns) + "WHERE user_id = $1 AND device_id = $2", {user_id, device_id});
  if (!row) return std::nullopt;
  return device_of(*row);
}

bool set_device_display_name(sql::Connection& c, const std::string& user_id, const std::string& device_id,
                             const std::optional<std::string>& display_name) {
  return c.execute("UPDATE devices SET display_name = $3 WHERE user_id = $1 AND device_id = $2",
                   {user_id, device_id, sql::nullable(display_name)}) == 1;
}

void record_device_seen(sql::Connection& c, const std::string& user_id, const std::string& device_id, std::int64_t ts_ms,
                        const std::string& ip) {
  c.execute("UPDATE devices SET last_seen_ts = $3, last_seen_ip = $4 WHERE user_id = $1 AND device_id = $2",
            {user_id, device_id, ts_ms, ip});
}

}  // namespace herald::storage::account_store
