#include "crypto/signed_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"

namespace herald::crypto {
namespace {
// The spec's signing example key (rooms-and-auth.md §4).
SigningKey spec_key() {
  return SigningKey::from_seed(*base64_decode("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"), "1");
}
}  // namespace

TEST(SignedJson, SpecVectorEmptyObject) {
  nlohmann::json obj = nlohmann::json::object();
  sign_json(obj, "domain", spec_key());
  EXPECT_EQ(obj["signatures"]["domain"]["ed25519:1"],
            "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ");
}

TEST(SignedJson, SpecVectorObjectWithData) {
  nlohmann::json obj = {{"one", 1}, {"two", "Two"}};
  sign_json(obj, "domain", spec_key());
  EXPECT_EQ(obj["signatures"]["domain"]["ed25519:1"],
            "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw");
}

TEST(SignedJson, VerifiesAndDetectsTampering) {
  const SigningKey key = spec_key();
  nlohmann::json obj = {{"one", 1}, {"unsigned", {{"age", 5}}}};
  sign_json(obj, "domain", key);
  EXPECT_TRUE(verify_json(obj, "domain", "ed25519:1", key.public_key()));
  obj["unsigned"]["age"] = 6;  // unsigned is not covered
  EXPECT_TRUE(verify_json(obj, "domain", "ed25519:1", key.public_key()));
  obj["one"] = 2;
  EXPECT_FALSE(verify_json(obj, "domain", "ed25519:1", key.public_key()));
  EXPECT_FALSE(verify_json(obj, "other", "ed25519:1", key.public_key()));
}

TEST(SigningKey, FileRoundTrip) {
  init();
  const auto dir = std::filesystem::temp_directory_path() / ("herald-key-" + random_alnum(8));
  const auto path = dir / "signing.key";
  const SigningKey created = SigningKey::load_or_create(path);
  const SigningKey loaded = SigningKey::load_or_create(path);
  EXPECT_EQ(created.key_id(), loaded.key_id());
  EXPECT_EQ(created.public_key(), loaded.public_key());
  std::filesystem::remove_all(dir);
}

}  // namespace herald::crypto
