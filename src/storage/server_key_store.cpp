#include "storage/server_key_store.h"

#include "storage/sql/connection.h"

namespace herald::storage::server_key_store {

void save(sql::Connection& c, const std::string& server_name, const std::vector<std::string>& key_ids,
          std::int64_t valid_until_ts, std::int64_t fetched_ts, const std::string& key_json) {
  for (const auto& key_id : key_ids) {
    c.execute(
        "INSERT INTO server_keys_json (server_name, key_id, valid_until_ts, fetched_ts, key_json) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (server_name, key_id) DO UPDATE SET "
        "valid_until_ts = excluded.valid_until_ts, fetched_ts = excluded.fetched_ts, key_json = excluded.key_json "
        "WHERE server_keys_json.valid_until_ts <= excluded.valid_until_ts",
        {server_name, key_id, valid_until_ts, fetched_ts, key_json});
  }
}

std::vector<StoredKeyObject> load_all(sql::Connection& c) {
  std::vector<StoredKeyObject> out;
  for (const auto& r : c.query("SELECT server_name, key_json, MAX(fetched_ts) FROM server_keys_json "
                               "GROUP BY server_name, key_json ORDER BY server_name",
                               {}))
    out.push_back(StoredKeyObject{r.get_text(0), r.get_text(1), r.get_int(2)});
  return out;
}

}  // namespace herald::storage::server_key_store
