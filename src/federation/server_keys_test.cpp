#include "federation/server_keys.h"

#include <gtest/gtest.h>

#include "crypto/base64.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "federation/key_fetcher.h"

namespace herald::federation {
namespace {

const std::int64_t kUntil = 1'800'000'000'000;

struct ServerKeysTest : ::testing::Test {
  crypto::SigningKey origin_key = crypto::SigningKey::generate("a1");
  crypto::SigningKey notary_key = crypto::SigningKey::generate("n1");
  crypto::SigningKey stranger = crypto::SigningKey::generate("n1");

  nlohmann::json origin_object() const { return own_server_keys("origin.example", origin_key, kUntil); }
  nlohmann::json notarised(nlohmann::json object, const crypto::SigningKey& by) const {
    crypto::sign_json(object, "notary.example", by);
    return nlohmann::json{{"server_keys", nlohmann::json::array({object})}};
  }
  std::map<std::string, std::string> notary_keys() const { return {{notary_key.key_id(), notary_key.public_key()}}; }
};

TEST_F(ServerKeysTest, AcceptsASelfSignedObjectOfTheServerAskedAbout) {
  nlohmann::json object = origin_object();
  object["old_verify_keys"] = {{"ed25519:old", {{"key", crypto::SigningKey::generate("old").public_key_base64()},
                                                {"expired_ts", 1234}}}};
  object.erase("signatures");  // re-signed with the old key listed
  crypto::sign_json(object, "origin.example", origin_key);
  auto keys = parse_server_keys(object, "origin.example");
  ASSERT_TRUE(keys) << keys.error();
  EXPECT_EQ(keys->valid_until_ts, kUntil);
  ASSERT_EQ(keys->verify_keys.size(), 1u);
  EXPECT_EQ(keys->verify_keys.at(origin_key.key_id()), origin_key.public_key());
  ASSERT_EQ(keys->old_verify_keys.size(), 1u);
  EXPECT_EQ(keys->old_verify_keys.at("ed25519:old").expired_ts, 1234);
}

TEST_F(ServerKeysTest, RefusesAnotherServersObject) {
  EXPECT_FALSE(parse_server_keys(origin_object(), "evil.example"));
}

TEST_F(ServerKeysTest, RefusesAnObjectNotSignedByEachVerifyKey) {
  nlohmann::json object = origin_object();
  object["verify_keys"]["ed25519:extra"] = {{"key", stranger.public_key_base64()}};  // listed, never signed
  EXPECT_FALSE(parse_server_keys(object, "origin.example"));

  nlohmann::json tampered = origin_object();
  tampered["valid_until_ts"] = kUntil + 1;  // the signature no longer covers it
  EXPECT_FALSE(parse_server_keys(tampered, "origin.example"));

  nlohmann::json unsigned_object = origin_object();
  unsigned_object.erase("signatures");
  EXPECT_FALSE(parse_server_keys(unsigned_object, "origin.example"));
}

TEST_F(ServerKeysTest, RefusesMissingOrMalformedFields) {
  for (const char* field : {"valid_until_ts", "verify_keys", "server_name"}) {
    nlohmann::json object = origin_object();
    object.erase(field);
    EXPECT_FALSE(parse_server_keys(object, "origin.example")) << field;
  }
  nlohmann::json bad_key = origin_object();
  bad_key["verify_keys"][origin_key.key_id()]["key"] = "dG9vc2hvcnQ";
  EXPECT_FALSE(parse_server_keys(bad_key, "origin.example"));
  EXPECT_FALSE(parse_server_keys(nlohmann::json::array(), "origin.example"));
}

TEST_F(ServerKeysTest, NotaryAnswersNeedTheNotarysSignatureAndTheOrigins) {
  auto good = verified_notary_answer(notarised(origin_object(), notary_key), "origin.example", "notary.example", notary_keys());
  ASSERT_EQ(good.size(), 1u);
  EXPECT_EQ(good[0].verify_keys.at(origin_key.key_id()), origin_key.public_key());
  // The notary's signature must be kept for serving again.
  EXPECT_TRUE(good[0].json["signatures"].contains("notary.example"));

  // Signed by someone else under the notary's name and key ID.
  EXPECT_TRUE(verified_notary_answer(notarised(origin_object(), stranger), "origin.example", "notary.example", notary_keys()).empty());
  // Not signed by the notary at all.
  nlohmann::json bare = {{"server_keys", nlohmann::json::array({origin_object()})}};
  EXPECT_TRUE(verified_notary_answer(bare, "origin.example", "notary.example", notary_keys()).empty());
  // The notary vouches for an object the origin never signed (a key the notary made up).
  nlohmann::json forged = origin_object();
  forged["verify_keys"] = {{stranger.key_id(), {{"key", stranger.public_key_base64()}}}};
  forged.erase("signatures");
  crypto::sign_json(forged, "origin.example", origin_key);  // signed, but not by the listed key
  EXPECT_TRUE(verified_notary_answer(notarised(forged, notary_key), "origin.example", "notary.example", notary_keys()).empty());
  // An answer about another server is ignored.
  EXPECT_TRUE(verified_notary_answer(notarised(origin_object(), notary_key), "other.example", "notary.example", notary_keys()).empty());
}

}  // namespace
}  // namespace herald::federation
