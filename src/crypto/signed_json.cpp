#include "crypto/signed_json.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/canonical_json.h"
#include "crypto/base64.h"
#include "crypto/signing_key.h"

namespace herald::crypto {

std::string signing_bytes(const nlohmann::json& object) {
  nlohmann::json stripped = object;
  stripped.erase("signatures");
  stripped.erase("unsigned");
  auto text = canonical_json(stripped);
  if (!text) throw std::invalid_argument("object is not valid canonical JSON");
  return std::move(*text);
}

void sign_json(nlohmann::json& object, std::string_view entity, const SigningKey& key) {
  const std::string signature = base64_encode(key.sign(signing_bytes(object)));
  object["signatures"][std::string(entity)][key.key_id()] = signature;
}

bool verify_json(const nlohmann::json& object, std::string_view entity, std::string_view key_id,
                 std::string_view public_key32) {
  if (!object.is_object()) return false;
  auto sigs = object.find("signatures");
  if (sigs == object.end() || !sigs->is_object()) return false;
  auto by_entity = sigs->find(entity);
  if (by_entity == sigs->end() || !by_entity->is_object()) return false;
  auto sig = by_entity->find(key_id);
  if (sig == by_entity->end() || !sig->is_string()) return false;
  auto raw = base64_decode(sig->get<std::string>());
  if (!raw) return false;
  try {
    return verify_ed25519(public_key32, signing_bytes(object), *raw);
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace herald::crypto
