#include "identity/keys/ephemeral_key.h"

#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"

namespace herald::identity {

EphemeralKey generate_ephemeral_key() {
  const std::string seed = crypto::random_bytes(32);
  const auto key = crypto::SigningKey::from_seed(seed, "0");
  return {crypto::base64url_encode(key.public_key()), crypto::base64url_encode(seed)};
}

std::string ephemeral_public_key_of(std::string_view private_key_b64) {
  const auto seed = crypto::base64_decode(private_key_b64);
  if (!seed || seed->size() != 32) return {};
  return crypto::base64url_encode(crypto::SigningKey::from_seed(*seed, "0").public_key());
}

std::string normalize_public_key(std::string_view key_b64) {
  const auto raw = crypto::base64_decode(key_b64);
  if (!raw || raw->size() != 32) return {};
  return crypto::base64url_encode(*raw);
}

}  // namespace herald::identity
