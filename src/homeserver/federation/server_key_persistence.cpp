#include "homeserver/federation/server_key_persistence.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "storage/database.h"
#include "storage/server_key_store.h"

namespace herald::homeserver {

Task<void> DatabaseKeyPersistence::save(federation::ServerKeys keys) {
  std::vector<std::string> ids;
  for (const auto& [id, raw] : keys.verify_keys) ids.push_back(id);
  for (const auto& [id, old] : keys.old_verify_keys) ids.push_back(id);
  const std::string text = keys.json.dump();
  const std::int64_t now = clock_.now_ms();
  co_await db_.write([&](storage::sql::Connection& c) {
    storage::server_key_store::save(c, keys.server_name, ids, keys.valid_until_ts, now, text);
  });
}

std::size_t DatabaseKeyPersistence::load_into(storage::Database& db, federation::RemoteKeyStore& store) {
  std::vector<storage::server_key_store::StoredKeyObject> rows;
  db.read_sync([&](storage::sql::Connection& c) { rows = storage::server_key_store::load_all(c); });
  std::size_t loaded = 0;
  for (const auto& row : rows) {
    const auto json = nlohmann::json::parse(row.key_json, nullptr, false);
    auto keys = federation::parse_server_keys(json, row.server_name);
    if (!keys) {
      log::warn("stored server keys ignored server={} reason={}", row.server_name, keys.error());
      continue;
    }
    store.add(*keys, row.fetched_ts);
    ++loaded;
  }
  return loaded;
}

}  // namespace herald::homeserver
