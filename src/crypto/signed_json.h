#pragma once
// Signing and verifying JSON objects (rooms-and-auth.md §4).
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace herald::crypto {

class SigningKey;

// Adds signatures[entity][key_id]; keeps existing signatures and `unsigned` untouched.
// Throws std::invalid_argument when the object cannot be canonicalised.
void sign_json(nlohmann::json& object, std::string_view entity, const SigningKey& key);

// True when signatures[entity][key_id] verifies with public_key32 (raw bytes).
bool verify_json(const nlohmann::json& object, std::string_view entity, std::string_view key_id,
                 std::string_view public_key32);

// The canonical bytes that get signed: the object without `signatures` and `unsigned`.
std::string signing_bytes(const nlohmann::json& object);

}  // namespace herald::crypto
