#include "crypto/request_signature.h"

#include <gtest/gtest.h>

#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"

namespace herald::crypto {

TEST(XMatrix, SignedHeaderParsesBackAndVerifies) {
  init();
  const SigningKey key = SigningKey::generate("a_1");
  const nlohmann::json content = {{"mxid", "@a:hs.example"}};
  const nlohmann::json signing = request_signing_json("POST", "/_matrix/identity/v2/3pid/unbind", "hs.example",
                                                      "destination_is", "is.example", &content);
  EXPECT_EQ(signing["destination_is"], "is.example");
  const std::string header = x_matrix_header(signing, "hs.example", "is.example", key);
  const auto parsed = parse_x_matrix_header(header);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->origin, "hs.example");
  EXPECT_EQ(parsed->key_id, "ed25519:a_1");
  EXPECT_EQ(parsed->destination, "is.example");
  nlohmann::json with_sig = signing;
  with_sig["signatures"]["hs.example"]["ed25519:a_1"] = parsed->signature;
  EXPECT_TRUE(verify_json(with_sig, "hs.example", "ed25519:a_1", key.public_key()));
  with_sig["content"]["mxid"] = "@b:hs.example";
  EXPECT_FALSE(verify_json(with_sig, "hs.example", "ed25519:a_1", key.public_key()));
}

TEST(XMatrix, ParsesUnquotedValuesAndRefusesOtherSchemes) {
  const auto p = parse_x_matrix_header("X-Matrix origin=hs.example,key=\"ed25519:1\",sig=abc");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->origin, "hs.example");
  EXPECT_EQ(p->signature, "abc");
  EXPECT_FALSE(p->destination);
  EXPECT_FALSE(parse_x_matrix_header("Bearer abc"));
  EXPECT_FALSE(parse_x_matrix_header("X-Matrix origin=hs"));
  EXPECT_FALSE(parse_x_matrix_header("X-Matrix origin=\"unterminated"));
}

}  // namespace herald::crypto
