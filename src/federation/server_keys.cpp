#include "federation/server_keys.h"

#include "crypto/base64.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"

namespace herald::federation {
namespace {

bool valid_key_id(std::string_view id) {
  if (!id.starts_with("ed25519:") || id.size() == 8) return false;
  for (char c : id.substr(8))
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::optional<std::string> raw_key(const nlohmann::json& entry) {
  if (!entry.is_object()) return std::nullopt;
  const auto it = entry.find("key");
  if (it == entry.end() || !it->is_string()) return std::nullopt;
  auto raw = crypto::base64_decode(it->get<std::string>());
  if (!raw || raw->size() != 32) return std::nullopt;
  return raw;
}

}  // namespace

Expected<ServerKeys, std::string> parse_server_keys(const nlohmann::json& object, std::string_view server_name) {
  if (!object.is_object()) return unexpected(std::string("not a JSON object"));
  const auto name = object.find("server_name");
  if (name == object.end() || !name->is_string() || name->get<std::string>() != server_name) {
    return unexpected("server_name is not " + std::string(server_name));
  }
  const auto until = object.find("valid_until_ts");
  if (until == object.end() || !until->is_number_integer()) return unexpected(std::string("no valid_until_ts"));
  const auto verify = object.find("verify_keys");
  if (verify == object.end() || !verify->is_object() || verify->empty()) return unexpected(std::string("no verify_keys"));
  ServerKeys out;
  out.server_name = std::string(server_name);
  out.valid_until_ts = until->get<std::int64_t>();
  for (const auto& [id, entry] : verify->items()) {
    if (!valid_key_id(id)) continue;  // other algorithms: not ours to check
    auto raw = raw_key(entry);
    if (!raw) return unexpected("verify key " + id + " is not an ed25519 key");
    if (!crypto::verify_json(object, server_name, id, *raw)) return unexpected("not signed by its verify key " + id);
    out.verify_keys.emplace(id, std::move(*raw));
  }
  if (out.verify_keys.empty()) return unexpected(std::string("no ed25519 verify key"));
  if (const auto old = object.find("old_verify_keys"); old != object.end() && old->is_object()) {
    for (const auto& [id, entry] : old->items()) {
      auto raw = raw_key(entry);
      if (!valid_key_id(id) || !raw || out.verify_keys.contains(id)) continue;
      const auto expired = entry.find("expired_ts");
      if (expired == entry.end() || !expired->is_number_integer()) continue;
      out.old_verify_keys.emplace(id, ServerKeys::OldKey{std::move(*raw), expired->get<std::int64_t>()});
    }
  }
  out.json = object;
  return out;
}

bool signed_by_notary(const nlohmann::json& object, std::string_view notary,
                      const std::map<std::string, std::string>& notary_keys) {
  for (const auto& [id, key] : notary_keys)
    if (crypto::verify_json(object, notary, id, key)) return true;
  return false;
}

nlohmann::json own_server_keys(std::string_view server_name, const crypto::SigningKey& key, std::int64_t valid_until_ts,
                               nlohmann::json old_verify_keys) {
  nlohmann::json body = {{"server_name", server_name},
                         {"valid_until_ts", valid_until_ts},
                         {"verify_keys", {{key.key_id(), {{"key", key.public_key_base64()}}}}},
                         {"old_verify_keys", std::move(old_verify_keys)}};
  crypto::sign_json(body, server_name, key);
  return body;
}

}  // namespace herald::federation
