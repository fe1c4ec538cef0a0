#pragma once
// End-to-end keys as clients upload them (device keys, one-time and fallback keys, cross-signing keys,
// signatures) and the positions at which users' device lists changed, in portable SQL. Functions run
// inside a Database job. Key objects are kept as the JSON text the client sent.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

struct StoredKey {
  std::string key_id;     // "<algorithm>:<id>"
  std::string key_json;
};

namespace e2e_key_store {

void put_device_keys(sql::Connection& c, const std::string& user, const std::string& device, const std::string& json);
std::optional<std::string> device_keys(sql::Connection& c, const std::string& user, const std::string& device);
// device ID -> key JSON, for every device of the user that uploaded keys.
std::map<std::string, std::string> all_device_keys(sql::Connection& c, const std::string& user);

// Adds one-time keys; false when a key ID is already there with other content (the spec's refusal).
bool add_one_time_key(sql::Connection& c, const std::string& user, const std::string& device, const std::string& algorithm,
                      const std::string& key_id, const std::string& json);
std::map<std::string, std::int64_t> one_time_key_counts(sql::Connection& c, const std::string& user, const std::string& device);
// Removes and returns one one-time key of the algorithm, else nullopt.
std::optional<StoredKey> claim_one_time_key(sql::Connection& c, const std::string& user, const std::string& device,
                                            const std::string& algorithm);

void put_fallback_key(sql::Connection& c, const std::string& user, const std::string& device, const std::string& algorithm,
                      const std::string& key_id, const std::string& json);
// The fallback key of the algorithm, marked used.
std::optional<StoredKey> claim_fallback_key(sql::Connection& c, const std::string& user, const std::string& device,
                                            const std::string& algorithm);
std::vector<std::string> unused_fallback_key_algorithms(sql::Connection& c, const std::string& user, const std::string& device);

void put_cross_signing_key(sql::Connection& c, const std::string& user, const std::string& key_type, const std::string& json);
std::optional<std::string> cross_signing_key(sql::Connection& c, const std::string& user, const std::string& key_type);

struct StoredSignature {
  std::string signer_user, signer_key_id, signature;
};
void put_signature(sql::Connection& c, const std::string& target_user, const std::string& target_id,
                   const std::string& signer_user, const std::string& signer_key_id, const std::string& signature);
std::vector<StoredSignature> signatures_of(sql::Connection& c, const std::string& target_user, const std::string& target_id);

// Every key of a device (device keys, one-time and fallback keys, signatures on it).
void delete_device_keys(sql::Connection& c, const std::string& user, const std::string& device);

void add_device_list_change(sql::Connection& c, const std::string& user, std::int64_t stream);
// Users whose device lists changed in (since, to].
std::set<std::string> device_lists_changed(sql::Connection& c, std::int64_t since, std::int64_t to);
std::int64_t max_stream(sql::Connection& c);

}  // namespace e2e_key_store
}  // namespace herald::storage
