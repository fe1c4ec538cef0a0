#include "storage/key_backup_store.h"

#include "storage/sql/connection.h"

namespace herald::storage::key_backup_store {
namespace {
constexpr const char* kVersionColumns = "SELECT version, algorithm, auth_data, etag FROM key_backup_versions ";
constexpr const char* kKeyColumns =
    "SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, session_data "
    "FROM key_backup_sessions ";

StoredBackupVersion version_of(const sql::Row& r) {
  return StoredBackupVersion{r.get_int(0), r.get_text(1), r.get_text(2), r.get_int(3)};
}

StoredRoomKey key_of(const sql::Row& r) {
  return StoredRoomKey{r.get_text(0), r.get_text(1), r.get_int(2), r.get_int(3), r.get_int(4) != 0, r.get_text(5)};
}

// " AND room_id = $3 AND session_id = $4" as far as the scope goes, with its parameters appended.
std::string scope_filter(const RoomKeyScope& scope, std::vector<sql::Value>& params) {
  std::string sql;
  if (scope.room_id) {
    params.emplace_back(*scope.room_id);
    sql += " AND room_id = $" + std::to_string(params.size());
    if (scope.session_id) {
      params.emplace_back(*scope.session_id);
      sql += " AND session_id = $" + std::to_string(params.size());
    }
  }
  return sql;
}
}  // namespace

std::int64_t create_version(sql::Connection& c, const std::string& user_id, const std::string& algorithm,
                            const std::string& auth_data) {
  auto row = c.query_one("SELECT COALESCE(MAX(version), 0) FROM key_backup_versions WHERE user_id = $1", {user_id});
  const std::int64_t version = (row ? row->get_int(0) : 0) + 1;
  c.execute("INSERT INTO key_backup_versions (user_id, version, algorithm, auth_data) VALUES ($1, $2, $3, $4)",
            {user_id, version, algorithm, auth_data});
  return version;
}

std::optional<StoredBackupVersion> current_version(sql::Connection& c, const std::string& user_id) {
  auto row = c.query_one(std::string(kVersionColumns) +
                             "WHERE user_id = $1 AND deleted = 0 ORDER BY version DESC LIMIT 1",
                         {user_id});
  if (!row) return std::nullopt;
  return version_of(*row);
}

std::optional<StoredBackupVersion> find_version(sql::Connection& c, const std::string& user_id, std::int64_t version) {
  auto row = c.query_one(std::string(kVersionColumns) + "WHERE user_id = $1 AND version = $2 AND deleted = 0",
                         {user_id, version});
  if (!row) return std::nullopt;
  return version_of(*row);
}

void update_auth_data(sql::Connection& c, const std::string& user_id, std::int64_t version, const std::string& auth_data) {
  c.execute("UPDATE key_backup_versions SET auth_data = $3 WHERE user_id = $1 AND version = $2 AND deleted = 0",
            {user_id, version, auth_data});
}

bool delete_version(sql::Connection& c, const std::string& user_id, std::int64_t version) {
  const bool found =
      c.execute("UPDATE key_backup_versions SET deleted = 1 WHERE user_id = $1 AND version = $2 AND deleted = 0",
                {user_id, version}) == 1;
  if (found) c.execute("DELETE FROM key_backup_sessions WHERE user_id = $1 AND version = $2", {user_id, version});
  return found;
}

std::int64_t bump_etag(sql::Connection& c, const std::string& user_id, std::int64_t version) {
  auto row = c.query_one(
      "UPDATE key_backup_versions SET etag = etag + 1 WHERE user_id = $1 AND version = $2 RETURNING etag",
      {user_id, version});
  return row ? row->get_int(0) : 0;
}

std::int64_t count_keys(sql::Connection& c, const std::string& user_id, std::int64_t version) {
  auto row = c.query_one("SELECT COUNT(*) FROM key_backup_sessions WHERE user_id = $1 AND version = $2",
                         {user_id, version});
  return row ? row->get_int(0) : 0;
}

std::optional<StoredRoomKey> find_key(sql::Connection& c, const std::string& user_id, std::int64_t version,
                                      const std::string& room_id, const std::string& session_id) {
  auto row = c.query_one(std::string(kKeyColumns) +
                             "WHERE user_id = $1 AND version = $2 AND room_id = $3 AND session_id = $4",
                         {user_id, version, room_id, session_id});
  if (!row) return std::nullopt;
  return key_of(*row);
}

void put_key(sql::Connection& c, const std::string& user_id, std::int64_t version, const StoredRoomKey& key) {
  c.execute(
      "INSERT INTO key_backup_sessions (user_id, version, room_id, session_id, first_message_index, forwarded_count, "
      "is_verified, session_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
      "ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET "
      "first_message_index = excluded.first_message_index, forwarded_count = excluded.forwarded_count, "
      "is_verified = excluded.is_verified, session_data = excluded.session_data",
      {user_id, version, key.room_id, key.session_id, key.first_message_index, key.forwarded_count,
       std::int64_t{key.is_verified ? 1 : 0}, key.session_data});
}

std::vector<StoredRoomKey> keys(sql::Connection& c, const std::string& user_id, std::int64_t version,
                                const RoomKeyScope& scope) {
  std::vector<sql::Value> params{user_id, version};
  const std::string filter = scope_filter(scope, params);
  std::vector<StoredRoomKey> out;
  for (const auto& r :
       c.query(std::string(kKeyColumns) + "WHERE user_id = $1 AND version = $2" + filter + " ORDER BY room_id, session_id",
               params)) {
    out.push_back(key_of(r));
  }
  return out;
}

std::int64_t delete_keys(sql::Connection& c, const std::string& user_id, std::int64_t version, const RoomKeyScope& scope) {
  std::vector<sql::Value> params{user_id, version};
  const std::string filter = scope_filter(scope, params);
  return c.execute("DELETE FROM key_backup_sessions WHERE user_id = $1 AND version = $2" + filter, params);
}

}  // namespace herald::storage::key_backup_store
