#include "storage/e2e_key_store.h"

#include <set>

#include "storage/sql/connection.h"

namespace herald::storage::e2e_key_store {

void put_device_keys(sql::Connection& c, const std::string& user, const std::string& device, const std::string& json) {
  c.execute("INSERT INTO device_keys (user_id, device_id, key_json) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json",
            {user, device, json});
}

std::optional<std::string> device_keys(sql::Connection& c, const std::string& user, const std::string& device) {
  auto r = c.query_one("SELECT key_json FROM device_keys WHERE user_id = $1 AND device_id = $2", {user, device});
  if (!r) return std::nullopt;
  return r->get_text(0);
}

std::map<std::string, std::string> all_device_keys(sql::Connection& c, const std::string& user) {
  std::map<std::string, std::string> out;
  for (const auto& r : c.query("SELECT device_id, key_json FROM device_keys WHERE user_id = $1", {user}))
    out.emplace(r.get_text(0), r.get_text(1));
  return out;
}

bool add_one_time_key(sql::Connection& c, const std::string& user, const std::string& device, const std::string& algorithm,
                      const std::string& key_id, const std::string& json) {
  auto existing = c.query_one(
      "SELECT key_json FROM one_time_keys WHERE user_id = $1 AND device_id = $2 AND algorithm = $3 AND key_id = $4",
      {user, device, algorithm, key_id});
  if (existing) return existing->get_text(0) == json;
  c.execute("INSERT INTO one_time_keys (user_id, device_id, algorithm, key_id, key_json) VALUES ($1, $2, $3, $4, $5)",
            {user, device, algorithm, key_id, json});
  return true;
}

std::map<std::string, std::int64_t> one_time_key_counts(sql::Connection& c, const std::string& user, const std::string& device) {
  std::map<std::string, std::int64_t> out;
  for (const auto& r : c.query("SELECT algorithm, COUNT(*) FROM one_time_keys WHERE user_id = $1 AND device_id = $2 "
                               "GROUP BY algorithm",
                               {user, device}))
    out.emplace(r.get_text(0), r.get_int(1));
  return out;
}

std::optional<StoredKey> claim_one_time_key(sql::Connection& c, const std::string& user, const std::string& device,
                                            const std::string& algorithm) {
  auto r = c.query_one("SELECT key_id, key_json FROM one_time_keys WHERE user_id = $1 AND device_id = $2 AND algorithm = $3 "
                       "ORDER BY key_id LIMIT 1",
                       {user, device, algorithm});
  if (!r) return std::nullopt;
  StoredKey key{algorithm + ":" + r->get_text(0), r->get_text(1)};
  c.execute("DELETE FROM one_time_keys WHERE user_id = $1 AND device_id = $2 AND algorithm = $3 AND key_id = $4",
            {user, device, algorithm, r->get_text(0)});
  return key;
}

void put_fallback_key(sql::Connection& c, const std::string& user, const std::string& device, const std::string& algorithm,
                      const std::string& key_id, const std::string& json) {
  // A re-upload of the same key keeps its `used` flag; a new key is unused.
  c.execute("INSERT INTO fallback_keys (user_id, device_id, algorithm, key_id, key_json, used) VALUES ($1, $2, $3, $4, $5, 0) "
            "ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET "
            "used = CASE WHEN fallback_keys.key_id = excluded.key_id AND fallback_keys.key_json = excluded.key_json "
            "THEN fallback_keys.used ELSE 0 END, key_id = excluded.key_id, key_json = excluded.key_json",
            {user, device, algorithm, key_id, json});
}

std::optional<StoredKey> claim_fallback_key(sql::Connection& c, const std::string& user, const std::string& device,
                                            const std::string& algorithm) {
  auto r = c.query_one("SELECT key_id, key_json FROM fallback_keys WHERE user_id = $1 AND device_id = $2 AND algorithm = $3",
                       {user, device, algorithm});
  if (!r) return std::nullopt;
  c.execute("UPDATE fallback_keys SET used = 1 WHERE user_id = $1 AND device_id = $2 AND algorithm = $3",
            {user, device, algorithm});
  return StoredKey{algorithm + ":" + r->get_text(0), r->get_text(1)};
}

std::vector<std::string> unused_fallback_key_algorithms(sql::Connection& c, const std::string& user, const std::string& device) {
  std::vector<std::string> out;
  for (const auto& r : c.query("SELECT algorithm FROM fallback_keys WHERE user_id = $1 AND device_id = $2 AND used = 0 "
                               "ORDER BY algorithm",
                               {user, device}))
    out.push_back(r.get_text(0));
  return out;
}

void put_cross_signing_key(sql::Connection& c, const std::string& user, const std::string& key_type, const std::string& json) {
  c.execute("INSERT INTO cross_signing_keys (user_id, key_type, key_json) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_id, key_type) DO UPDATE SET key_json = excluded.key_json",
            {user, key_type, json});
}

std::optional<std::string> cross_signing_key(sql::Connection& c, const std::string& user, const std::string& key_type) {
  auto r = c.query_one("SELECT key_json FROM cross_signing_keys WHERE user_id = $1 AND key_type = $2", {user, key_type});
  if (!r) return std::nullopt;
  return r->get_text(0);
}

void put_signature(sql::Connection& c, const std::string& target_user, const std::string& target_id,
                   const std::string& signer_user, const std::string& signer_key_id, const std::string& signature) {
  c.execute("INSERT INTO key_signatures (target_user, target_id, signer_user, signer_key_id, signature) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (target_user, target_id, signer_user, signer_key_id) "
            "DO UPDATE SET signature = excluded.signature",
            {target_user, target_id, signer_user, signer_key_id, signature});
}

std::vector<StoredSignature> signatures_of(sql::Connection& c, const std::string& target_user, const std::string& target_id) {
  std::vector<StoredSignature> out;
  for (const auto& r : c.query("SELECT signer_user, signer_key_id, signature FROM key_signatures "
                               "WHERE target_user = $1 AND target_id = $2",
                               {target_user, target_id}))
    out.push_back({r.get_text(0), r.get_text(1), r.get_text(2)});
  return out;
}

void delete_device_keys(sql::Connection& c, const std::string& user, const std::string& device) {
  c.execute("DELETE FROM device_keys WHERE user_id = $1 AND device_id = $2", {user, device});
  c.execute("DELETE FROM one_time_keys WHERE user_id = $1 AND device_id = $2", {user, device});
  c.execute("DELETE FROM fallback_keys WHERE user_id = $1 AND device_id = $2", {user, device});
  c.execute("DELETE FROM key_signatures WHERE target_user = $1 AND target_id = $2", {user, device});
}

void add_device_list_change(sql::Connection& c, const std::string& user, std::int64_t stream) {
  c.execute("INSERT INTO device_list_changes (stream_ordering, user_id) VALUES ($1, $2)", {stream, user});
}

std::set<std::string> device_lists_changed(sql::Connection& c, std::int64_t since, std::int64_t to) {
  std::set<std::string> out;
  for (const auto& r : c.query("SELECT DISTINCT user_id FROM device_list_changes WHERE stream_ordering > $1 "
                               "AND stream_ordering <= $2",
                               {since, to}))
    out.insert(r.get_text(0));
  return out;
}

std::int64_t max_stream(sql::Connection& c) {
  return c.query_one("SELECT COALESCE(MAX(stream_ordering), 0) FROM device_list_changes")->get_int(0);
}

}  // namespace herald::storage::e2e_key_store
