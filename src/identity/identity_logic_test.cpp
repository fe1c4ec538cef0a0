// The identity server's pure logic, against the spec's vectors where it has them (identity.md §4, §6).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "identity/accounts/terms.h"
#include "identity/associations/lookup_hash.h"
#include "identity/invites/redacted_address.h"
#include "identity/keys/ephemeral_key.h"
#include "identity/templates.h"
#include "identity/validation/email_address.h"

namespace herald::identity {

TEST(LookupHash, MatchesTheSpecVectors) {
  EXPECT_EQ(lookup_hash("alice@example.com", "email", "matrixrocks"), "4kenr7N9drpCJ4AfalmlGQVsOn3o2RHjkADUpXJWZUc");
  EXPECT_EQ(lookup_hash("bob@example.com", "email", "matrixrocks"), "LJwSazmv46n0hlMlsb_iYxI0_HXEqy_yj6Jm636cdT8");
  EXPECT_EQ(lookup_hash("18005552067", "msisdn", "matrixrocks"), "nlo35_T5fzSGZzJApqu8lgIudJvmOQtDaHtr-I4rU7I");
}

TEST(RedactedAddress, HidesMostOfEachPart) {
  EXPECT_EQ(redact_address("alice@example.org"), "ali...@exa...");
  EXPECT_EQ(redact_address("bo@x.io"), "b...@x.i...");
  EXPECT_EQ(redact_address("a@b"), "...@...");
  EXPECT_EQ(redact_address("abc@abcd"), "a...@abc...");
  EXPECT_EQ(redact_address("zoë.müller@exämple.org"), "zoë...@exä...");
  EXPECT_EQ(redact_address("noatsign"), "noa...");
}

TEST(EmailAddress, CaseFoldsAndRefusesWhatCannotBeMailed) {
  EXPECT_EQ(canonical_email("Alice@Example.ORG"), "alice@example.org");
  for (const char* bad : {"", "alice", "@example.org", "alice@", "a b@example.org", "a@b@c", "alice@example..org",
                          "alice@.example.org", "alice@example.org\r\nBcc: x@y", "<alice@example.org>"}) {
    EXPECT_FALSE(canonical_email(bad)) << bad;
  }
  EXPECT_FALSE(canonical_email(std::string(495, 'a') + "@b.org"));
}

TEST(ClientSecret, FollowsTheSpecGrammar) {
  EXPECT_TRUE(is_valid_client_secret("abc.DEF=ghi_-09"));
  EXPECT_FALSE(is_valid_client_secret(""));
  EXPECT_FALSE(is_valid_client_secret("has space"));
  EXPECT_FALSE(is_valid_client_secret("slash/"));
  EXPECT_FALSE(is_valid_client_secret(std::string(256, 'a')));
  EXPECT_TRUE(is_valid_client_secret(std::string(255, 'a')));
}

TEST(EphemeralKey, PrivateHalfSignsWhatThePublicHalfVerifies) {
  crypto::init();
  const EphemeralKey key = generate_ephemeral_key();
  EXPECT_EQ(key.public_key.find_first_of("+/="), std::string::npos);  // URL-safe, unpadded
  EXPECT_EQ(ephemeral_public_key_of(key.private_key), key.public_key);
  EXPECT_EQ(ephemeral_public_key_of("not base64!"), "");
  // The same key in the standard alphabet is the same key.
  const auto raw = crypto::base64_decode(key.public_key);
  EXPECT_EQ(normalize_public_key(crypto::base64_encode(*raw)), key.public_key);

  nlohmann::json signed_object = {{"mxid", "@carol:hs"}, {"sender", "@alice:hs"}, {"token", "abc"}};
  const auto seed = crypto::base64_decode(key.private_key);
  crypto::sign_json(signed_object, "is.example", crypto::SigningKey::from_seed(*seed, "0"));
  EXPECT_TRUE(crypto::verify_json(signed_object, "is.example", "ed25519:0", *raw));
}

TEST(Terms, AnyLanguageOfEveryPolicyCounts) {
  const auto policies = nlohmann::json::parse(R"({
    "privacy": {"version": "1.0", "en": {"name": "Privacy", "url": "https://x/privacy-en"},
                                  "fr": {"name": "Vie privée", "url": "https://x/privacy-fr"}},
    "terms": {"version": "2.0", "en": {"name": "Terms", "url": "https://x/terms-en"}}})");
  EXPECT_EQ(term_urls(policies).size(), 3u);
  EXPECT_FALSE(terms_accepted(policies, {"https://x/privacy-fr"}));
  EXPECT_TRUE(terms_accepted(policies, {"https://x/privacy-fr", "https://x/terms-en"}));
  EXPECT_TRUE(terms_accepted(nlohmann::json::object(), {}));
}

TEST(Templates, ShippedTemplatesExistAndTextOnesCarryASubject) {
  const Templates t(std::nullopt);
  for (const char* name : {"invite_email.txt", "invite_email.html", "validation_email.txt", "validation_email.html",
                           "validation_page.html"}) {
    EXPECT_FALSE(t.get(name).empty()) << name;
  }
  const auto split = split_subject(t.get("invite_email.txt"));
  EXPECT_EQ(split.subject, "{{ sender_display_name }} has invited you to chat");
  EXPECT_EQ(split.body.find("Subject:"), std::string::npos);
}

}  // namespace herald::identity
