#pragma once
// A server's signing keys as published at /_matrix/key/v2/server (federation.md §3), checked: the
// answer names the server we asked about, carries valid_until_ts, and is signed by each of its
// verify_keys. Notary answers (/_matrix/key/v2/query) are the same objects with the notary's signature
// added. Pure functions: no I/O, time is a parameter.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/expected.h"

namespace herald::crypto {
class SigningKey;
}

namespace herald::federation {

struct ServerKeys {
  std::string server_name;
  std::int64_t valid_until_ts = 0;
  std::map<std::string, std::string> verify_keys;  // key ID -> raw 32-byte ed25519 key
  struct OldKey {
    std::string key;  // raw 32 bytes
    std::int64_t expired_ts = 0;
  };
  std::map<std::string, OldKey> old_verify_keys;
  nlohmann::json json;  // the object as the origin signed it (notary signatures kept), for serving again
};

// Checks a key object said to be `server_name`'s: server_name matches, valid_until_ts is an integer,
// every verify key is ed25519 with a 32-byte key and has signed the object. Returns the reason otherwise.
Expected<ServerKeys, std::string> parse_server_keys(const nlohmann::json& object, std::string_view server_name);

// True when `object` carries a valid signature of `notary` by one of `notary_keys` (key ID -> raw key).
bool signed_by_notary(const nlohmann::json& object, std::string_view notary,
                      const std::map<std::string, std::string>& notary_keys);

// This server's own key object, self-signed (what /_matrix/key/v2/server serves).
nlohmann::json own_server_keys(std::string_view server_name, const crypto::SigningKey& key, std::int64_t valid_until_ts,
                               nlohmann::json old_verify_keys = nlohmann::json::object());

}  // namespace herald::federation
