#pragma once
// Remote servers' verified key objects (migration 0010). The federation layer checks them before they
// are saved and again when they are loaded.
#include <cstdint>
#include <string>
#include <vector>

namespace herald::storage::sql {
class Connection;
}

namespace herald::storage::server_key_store {

struct StoredKeyObject {
  std::string server_name;
  std::string key_json;
  std::int64_t fetched_ts = 0;  // when the object was fetched (a key counts for events up to 7 days after)
};

// Keeps the object for each key ID unless a stored one is valid for longer.
void save(sql::Connection& c, const std::string& server_name, const std::vector<std::string>& key_ids,
          std::int64_t valid_until_ts, std::int64_t fetched_ts, const std::string& key_json);
// Every stored object, once per server and object.
std::vector<StoredKeyObject> load_all(sql::Connection& c);

}  // namespace herald::storage::server_key_store
