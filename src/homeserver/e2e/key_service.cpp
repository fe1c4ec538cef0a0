#include "homeserver/e2e/key_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/matrix_error.h"
#include "crypto/base64.h"
#include "crypto/signed_json.h"
#include "homeserver/e2e/device_lists.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/database.h"
#include "storage/e2e_key_store.h"
#include "storage/room_store.h"
#include "storage/to_device_store.h"

namespace herald::homeserver {
namespace ks = storage::e2e_key_store;
namespace {
constexpr std::size_t kMaxKeyBytes = 8192;           // one key object
constexpr std::size_t kMaxKeysPerUpload = 1000;      // one-time keys in one request
constexpr std::int64_t kMaxOneTimeKeysPerDevice = 10'000;
constexpr std::size_t kMaxQueriedUsers = 1000;
constexpr const char* kCrossSigningTypes[] = {"master", "self_signing", "user_signing"};

[[noreturn]] void bad(const std::string& what) { throw MatrixError(Errc::bad_json, what); }
[[noreturn]] void invalid(const std::string& what) { throw MatrixError(Errc::invalid_param, what); }

const nlohmann::json* optional_object(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  if (!it->is_object()) bad(std::string("'") + key + "' must be an object");
  return &*it;
}

std::string key_text(const nlohmann::json& key, const std::string& name) {
  if (!key.is_string() && !key.is_object()) bad("Key '" + name + "' must be a string or an object");
  std::string text = key.dump();
  if (text.size() > kMaxKeyBytes) invalid("Key '" + name + "' is too large");
  return text;
}

// "<algorithm>:<key id>" -> {algorithm, key id}; M_INVALID_PARAM otherwise.
std::pair<std::string, std::string> split_key_id(const std::string& id) {
  const auto colon = id.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size() || id.size() > 255) {
    invalid("Key ID '" + id + "' is not <algorithm>:<id>");
  }
  return {id.substr(0, colon), id.substr(colon + 1)};
}

// The device key object: owned by this user and device, self-signed with its ed25519 key.
void check_device_keys(const nlohmann::json& keys, const std::string& user, const std::string& device) {
  if (keys.value("user_id", "") != user) invalid("device_keys.user_id must be your user ID");
  if (keys.value("device_id", "") != device) invalid("device_keys.device_id must be the device of your access token");
  if (!keys.contains("algorithms") || !keys["algorithms"].is_array()) bad("device_keys.algorithms must be a list");
  if (!keys.contains("keys") || !keys["keys"].is_object()) bad("device_keys.keys must be an object");
  const std::string ed_id = "ed25519:" + device;
  auto ed = keys["keys"].find(ed_id);
  if (ed == keys["keys"].end() || !ed->is_string()) invalid("device_keys.keys has no " + ed_id + " key");
  const auto public_key = crypto::base64_decode(ed->get<std::string>());
  if (!public_key || public_key->size() != 32) invalid("device_keys.keys." + ed_id + " is not an ed25519 public key");
  if (!crypto::verify_json(keys, user, ed_id, *public_key)) {
    invalid("device_keys must be signed by the device's own ed25519 key");
  }
}

// Signatures stored through /keys/signatures/upload, merged into a served key object.
void merge_signatures(storage::sql::Connection& c, nlohmann::json& key, const std::string& user, const std::string& target) {
  for (const auto& s : ks::signatures_of(c, user, target)) key["signatures"][s.signer_user][s.signer_key_id] = s.signature;
}

// The single public key of a cross-signing key object ("ed25519:<key>" -> key), or "".
std::string cross_signing_public_key(const nlohmann::json& key) {
  auto keys = key.find("keys");
  if (keys == key.end() || !keys->is_object() || keys->size() != 1) return "";
  const auto only = keys->begin();
  if (only.key().rfind("ed25519:", 0) != 0 || !only.value().is_string()) return "";
  return only.value().get<std::string>();
}
}  // namespace

std::int64_t KeyService::record_change(storage::sql::Connection& c, const std::string& user) {
  const std::int64_t position = stream_.next();
  ks::add_device_list_change(c, user, position);
  return position;
}

Task<void> KeyService::notify_change(std::string user, std::int64_t position) {
  std::vector<std::string> rooms;
  co_await db_.read([&](storage::sql::Connection& c) {
    for (const auto& m : storage::room_store::memberships_of(c, user))
      if (m.membership == "join") rooms.push_back(m.room_id);
  });
  notifier_.notify_user_and_rooms(position, user, rooms);
}

Task<nlohmann::json> KeyService::upload(UserId user, std::string device_id, nlohmann::json body) {
  const std::string user_id = user.str();
  std::optional<std::string> device_keys;
  if (const auto* dk = optional_object(body, "device_keys")) {
    check_device_keys(*dk, user_id, device_id);
    device_keys = key_text(*dk, "device_keys");
  }
  struct NewKey {
    std::string algorithm, key_id, json;
  };
  std::vector<NewKey> one_time, fallback;
  if (const auto* otk = optional_object(body, "one_time_keys")) {
    if (otk->size() > kMaxKeysPerUpload) invalid("Too many one-time keys in one upload");
    for (const auto& [id, key] : otk->items()) {
      auto [algorithm, key_id] = split_key_id(id);
      one_time.push_back({algorithm, key_id, key_text(key, id)});
    }
  }
  if (const auto* fb = optional_object(body, "fallback_keys")) {
    if (fb->size() > 16) invalid("Too many fallback keys in one upload");
    for (const auto& [id, key] : fb->items()) {
      auto [algorithm, key_id] = split_key_id(id);
      fallback.push_back({algorithm, key_id, key_text(key, id)});
    }
  }
  std::optional<std::int64_t> changed_at;
  const auto counts = co_await db_.write([&](storage::sql::Connection& c) {
    if (device_keys) {
      const auto existing = ks::device_keys(c, user_id, device_id);
      if (existing != device_keys) {
        ks::put_device_keys(c, user_id, device_id, *device_keys);
        changed_at = record_change(c, user_id);
      }
    }
    auto before = ks::one_time_key_counts(c, user_id, device_id);
    std::int64_t total = 0;
    for (const auto& [alg, n] : before) total += n;
    if (total + static_cast<std::int64_t>(one_time.size()) > kMaxOneTimeKeysPerDevice) {
      throw MatrixError(Errc::limit_exceeded, "This device holds too many one-time keys", 400);
    }
    for (const auto& k : one_time) {
      if (!ks::add_one_time_key(c, user_id, device_id, k.algorithm, k.key_id, k.json)) {
        throw MatrixError(Errc::invalid_param, "One-time key " + k.algorithm + ":" + k.key_id + " already exists");
      }
    }
    for (const auto& k : fallback) ks::put_fallback_key(c, user_id, device_id, k.algorithm, k.key_id, k.json);
    return ks::one_time_key_counts(c, user_id, device_id);
  });
  if (changed_at) co_await notify_change(user_id, *changed_at);
  nlohmann::json out = {{"one_time_key_counts", nlohmann::json::object()}};
  for (const auto& [alg, n] : counts) out["one_time_key_counts"][alg] = n;
  co_return out;
}

Task<nlohmann::json> KeyService::query(UserId requester, nlohmann::json body) {
  const nlohmann::json* wanted = optional_object(body, "device_keys");
  if (!wanted) throw MatrixError(Errc::missing_param, "Missing 'device_keys'");
  if (wanted->size() > kMaxQueriedUsers) invalid("Too many users in one query");
  std::map<std::string, std::vector<std::string>> local;  // user -> devices ([] = all)
  nlohmann::json failures = nlohmann::json::object();
  for (const auto& [user, devices] : wanted->items()) {
    auto id = UserId::parse(user);
    if (!id) invalid("'" + user + "' is not a user ID");
    if (!devices.is_array()) bad("device_keys." + user + " must be a list of device IDs");
    if (id->server_name() != server_name_) {
      // Remote users' keys come with federation (issue 14); say so rather than answer nothing.
      failures[std::string(id->server_name())] = {{"status", 503}, {"message", "Federation is not available"}};
      continue;
    }
    auto& list = local[user];
    for (const auto& d : devices) {
      if (!d.is_string()) bad("device_keys." + user + " must be a list of device IDs");
      list.push_back(d.get<std::string>());
    }
  }
  const std::string me = requester.str();
  nlohmann::json out = co_await db_.read([&](storage::sql::Connection& c) {
    nlohmann::json result = {{"device_keys", nlohmann::json::object()},
                             {"master_keys", nlohmann::json::object()},
                             {"self_signing_keys", nlohmann::json::object()},
                             {"user_signing_keys", nlohmann::json::object()}};
    for (const auto& [user, devices] : local) {
      nlohmann::json user_devices = nlohmann::json::object();
      std::map<std::string, std::string> names;
      for (const auto& r : c.query("SELECT device_id, display_name FROM devices WHERE user_id = $1", {user}))
        if (!r.is_null(1)) names.emplace(r.get_text(0), r.get_text(1));
      for (const auto& [device, text] : ks::all_device_keys(c, user)) {
        if (!devices.empty() && std::find(devices.begin(), devices.end(), device) == devices.end()) continue;
        nlohmann::json key = nlohmann::json::parse(text);
        merge_signatures(c, key, user, device);
        key.erase("unsigned");
        if (auto n = names.find(device); n != names.end()) key["unsigned"]["device_display_name"] = n->second;
        user_devices[device] = std::move(key);
      }
      result["device_keys"][user] = std::move(user_devices);
      for (const char* type : kCrossSigningTypes) {
        if (std::string(type) == "user_signing" && user != me) continue;  // only the owner sees it
        if (auto text = ks::cross_signing_key(c, user, type)) {
          nlohmann::json key = nlohmann::json::parse(*text);
          merge_signatures(c, key, user, cross_signing_public_key(key));
          result[std::string(type) + "_keys"][user] = std::move(key);
        }
      }
    }
    return result;
  });
  out["failures"] = failures;
  co_return out;
}

Task<nlohmann::json> KeyService::claim(UserId requester, nlohmann::json body) {
  (void)requester;
  const nlohmann::json* wanted = optional_object(body, "one_time_keys");
  if (!wanted) throw MatrixError(Errc::missing_param, "Missing 'one_time_keys'");
  if (wanted->size() > kMaxQueriedUsers) invalid("Too many users in one claim");
  struct Want {
    std::string user, device, algorithm;
  };
  std::vector<Want> wants;
  nlohmann::json failures = nlohmann::json::object();
  for (const auto& [user, devices] : wanted->items()) {
    auto id = UserId::parse(user);
    if (!id) invalid("'" + user + "' is not a user ID");
    if (!devices.is_object()) bad("one_time_keys." + user + " must map device IDs to algorithms");
    if (id->server_name() != server_name_) {
      failures[std::string(id->server_name())] = {{"status", 503}, {"message", "Federation is not available"}};
      continue;
    }
    for (const auto& [device, algorithm] : devices.items()) {
      if (!algorithm.is_string()) bad("one_time_keys." + user + "." + device + " must be an algorithm name");
      wants.push_back({user, device, algorithm.get<std::string>()});
    }
  }
  nlohmann::json claimed = co_await db_.write([&](storage::sql::Connection& c) {
    nlohmann::json keys = nlohmann::json::object();
    for (const auto& w : wants) {
      auto key = ks::claim_one_time_key(c, w.user, w.device, w.algorithm);
      if (!key) key = ks::claim_fallback_key(c, w.user, w.device, w.algorithm);
      if (key) keys[w.user][w.device][key->key_id] = nlohmann::json::parse(key->key_json);
    }
    return keys;
  });
  co_return nlohmann::json{{"one_time_keys", claimed}, {"failures", failures}};
}

Task<nlohmann::json> KeyService::changes(UserId user, std::int64_t from, std::int64_t to) {
  const std::string user_id = user.str();
  const DeviceListDelta delta =
      co_await db_.read([&](storage::sql::Connection& c) { return device_list_delta(c, user_id, from, to); });
  co_return nlohmann::json{{"changed", delta.changed}, {"left", delta.left}};
}

Task<bool> KeyService::has_master_key(UserId user) {
  const std::string user_id = user.str();
  co_return co_await db_.read(
      [&](storage::sql::Connection& c) { return ks::cross_signing_key(c, user_id, "master").has_value(); });
}

Task<void> KeyService::upload_cross_signing(UserId user, nlohmann::json body) {
  const std::string user_id = user.str();
  std::map<std::string, std::string> keys;  // type -> JSON
  std::string master_public;
  for (const char* type : kCrossSigningTypes) {
    const std::string field = std::string(type) + "_key";
    const auto* key = optional_object(body, field.c_str());
    if (!key) continue;
    if (key->value("user_id", "") != user_id) invalid(field + ".user_id must be your user ID");
    auto usage = key->find("usage");
    if (usage == key->end() || !usage->is_array() || std::find(usage->begin(), usage->end(), type) == usage->end()) {
      invalid(field + ".usage must contain '" + type + "'");
    }
    if (cross_signing_public_key(*key).empty()) invalid(field + ".keys must hold exactly one ed25519 key");
    keys[type] = key_text(*key, field);
  }
  if (keys.empty()) throw MatrixError(Errc::missing_param, "No cross-signing key in the request");
  std::int64_t position = 0;
  co_await db_.write([&](storage::sql::Connection& c) {
    // The self-signing and user-signing keys must be signed by the master key (the new one, or the stored one).
    std::optional<std::string> master_text = keys.contains("master") ? std::optional(keys["master"]) : ks::cross_signing_key(c, user_id, "master");
    if (!master_text) invalid("Upload a master key first");
    const nlohmann::json master = nlohmann::json::parse(*master_text);
    const std::string master_key = cross_signing_public_key(master);
    const auto master_bytes = crypto::base64_decode(master_key);
    if (!master_bytes || master_bytes->size() != 32) invalid("master_key is not an ed25519 public key");
    for (const char* type : {"self_signing", "user_signing"}) {
      auto it = keys.find(type);
      if (it == keys.end()) continue;
      if (!crypto::verify_json(nlohmann::json::parse(it->second), user_id, "ed25519:" + master_key, *master_bytes)) {
        invalid(std::string(type) + "_key must be signed by the master key");
      }
    }
    for (const auto& [type, text] : keys) ks::put_cross_signing_key(c, user_id, type, text);
    position = record_change(c, user_id);
  });
  co_await notify_change(user_id, position);
}

Task<nlohmann::json> KeyService::upload_signatures(UserId user, nlohmann::json body) {
  if (!body.is_object()) bad("The body must be an object");
  const std::string user_id = user.str();
  nlohmann::json failures = nlohmann::json::object();
  std::set<std::string> changed_users;
  std::vector<std::int64_t> positions;
  co_await db_.write([&](storage::sql::Connection& c) {
    for (const auto& [target_user, objects] : body.items()) {
      if (!objects.is_object()) bad("Signatures for " + target_user + " must be an object");
      for (const auto& [target_id, signed_object] : objects.items()) {
        auto fail = [&](const std::string& message) {
          failures[target_user][target_id] = {{"errcode", "M_INVALID_SIGNATURE"}, {"error", message}};
        };
        if (!signed_object.is_object()) {
          fail("Not an object");
          continue;
        }
        auto sigs = signed_object.find("signatures");
        if (sigs == signed_object.end() || !sigs->is_object() || !sigs->contains(user_id) || !(*sigs)[user_id].is_object()) {
          fail("No signature by " + user_id);
          continue;
        }
        // Which key of the uploader may sign: their self-signing key for their own devices (and their
        // device keys for their master key), their user-signing key for other users' master keys.
        std::optional<std::string> signer_text;
        if (target_user == user_id) {
          const bool is_device = ks::device_keys(c, target_user, target_id).has_value();
          signer_text = is_device ? ks::cross_signing_key(c, user_id, "self_signing") : std::nullopt;
          if (!is_device) {
            // A device of the uploader signs their master key: accept a signature by any of their device keys.
            for (const auto& [sig_id, sig] : (*sigs)[user_id].items()) {
              const auto [alg, dev] = split_key_id(sig_id);
              if (auto dk = ks::device_keys(c, user_id, dev)) {
                const nlohmann::json device = nlohmann::json::parse(*dk);
                const auto pk = crypto::base64_decode(device["keys"].value(sig_id, ""));
                if (pk && pk->size() == 32 && crypto::verify_json(signed_object, user_id, sig_id, *pk) && sig.is_string()) {
                  ks::put_signature(c, target_user, target_id, user_id, sig_id, sig.get<std::string>());
                  changed_users.insert(target_user);
                }
              }
            }
            if (!changed_users.contains(target_user)) fail("No valid device signature on the master key");
            continue;
          }
        } else {
          signer_text = ks::cross_signing_key(c, user_id, "user_signing");
        }
        if (!signer_text) {
          fail("No signing key to check this signature with");
          continue;
        }
        const std::string signer_key = cross_signing_public_key(nlohmann::json::parse(*signer_text));
        const std::string sig_id = "ed25519:" + signer_key;
        const auto pk = crypto::base64_decode(signer_key);
        auto sig = (*sigs)[user_id].find(sig_id);
        if (!pk || pk->size() != 32 || sig == (*sigs)[user_id].end() || !sig->is_string() ||
            !crypto::verify_json(signed_object, user_id, sig_id, *pk)) {
          fail("The signature does not verify");
          continue;
        }
        ks::put_signature(c, target_user, target_id, user_id, sig_id, sig->get<std::string>());
        changed_users.insert(target_user);
      }
    }
    for (const auto& u : changed_users) positions.push_back(record_change(c, u));
  });
  std::size_t i = 0;
  for (const auto& u : changed_users) co_await notify_change(u, positions[i++]);
  co_return nlohmann::json{{"failures", failures}};
}

std::function<void()> KeyService::delete_device_keys(storage::sql::Connection& c, const std::string& user,
                                                     const std::string& device_id) {
  ks::delete_device_keys(c, user, device_id);
  storage::to_device_store::delete_device(c, user, device_id);
  const std::int64_t position = record_change(c, user);
  std::vector<std::string> rooms;
  for (const auto& m : storage::room_store::memberships_of(c, user))
    if (m.membership == "join") rooms.push_back(m.room_id);
  return [this, user, position, rooms] { notifier_.notify_user_and_rooms(position, user, rooms); };
}

}  // namespace herald::homeserver
