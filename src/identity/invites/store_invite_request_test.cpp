// The store-invite body: one row per refusal, in the order Sydent checks (identity.md §6).
#include "identity/invites/store_invite_request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace herald::identity {
namespace {

nlohmann::json good_body() {
  return {{"medium", "email"},      {"address", "Carol@Example.org"}, {"room_id", "!room:hs.test"},
          {"sender", "@alice:hs.test"}, {"room_name", "Tea"},           {"sender_display_name", "Alice"}};
}

// The error parse_store_invite_request throws, or "ok".
std::string refusal_of(const nlohmann::json& body, const std::optional<std::string>& owner = std::nullopt) {
  try {
    (void)parse_store_invite_request(body, owner);
    return "ok";
  } catch (const MatrixError& e) {
    return std::string(e.errcode()) + " " + std::to_string(e.http_status());
  }
}

TEST(StoreInviteRequest, AGoodBodyGivesTheFieldsAndTheCanonicalAddress) {
  const StoreInviteRequest r = parse_store_invite_request(good_body(), std::string("@alice:hs.test"));
  EXPECT_EQ(r.medium, "email");
  EXPECT_EQ(r.address, "Carol@Example.org");  // as given: the answer's display_name redacts this
  EXPECT_EQ(r.canonical, "carol@example.org");
  EXPECT_EQ(r.room_id, "!room:hs.test");
  EXPECT_EQ(r.sender, "@alice:hs.test");
  EXPECT_FALSE(r.refusal);
}

TEST(StoreInviteRequest, RefusalsInSydentsOrder) {
  struct Case {
    const char* what;
    nlohmann::json body;
    std::optional<std::string> owner;
    std::string expected;
  };
  auto with = [](const char* key, nlohmann::json value) {
    nlohmann::json b = good_body();
    b[key] = std::move(value);
    return b;
  };
  auto without = [](const char* key) {
    nlohmann::json b = good_body();
    b.erase(key);
    return b;
  };
  const std::string long_text(2049, 'x');
  const Case cases[] = {
      {"every key missing, and not an object", nlohmann::json::array(), std::nullopt, "M_MISSING_PARAMS 400"},
      {"sender missing", without("sender"), std::nullopt, "M_MISSING_PARAMS 400"},
      // A missing key is found before a too-long one.
      {"missing beats too long", [&] { auto b = without("room_id"); b["address"] = long_text; return b; }(),
       std::nullopt, "M_MISSING_PARAMS 400"},
      {"any string field over 2,048 bytes", with("room_name", long_text), std::nullopt, "M_INVALID_PARAM 400"},
      {"2,048 bytes are fine", with("room_name", std::string(2048, 'x')), std::nullopt, "ok"},
      {"medium not a string", with("medium", 1), std::nullopt, "M_BAD_JSON 400"},
      // null passes the presence check, then the field reader reads it as absent.
      {"address null", with("address", nullptr), std::nullopt, "M_MISSING_PARAM 400"},
      {"display fields need not be strings", with("room_name", 5), std::nullopt, "ok"},
      {"sender is not the token's owner", good_body(), std::string("@mallory:hs.test"), "M_UNAUTHORIZED 403"},
      // The owner check comes before the sender's grammar.
      {"owner mismatch beats a bad sender", with("sender", "alice"), std::string("@alice:hs.test"),
       "M_UNAUTHORIZED 403"},
      {"sender not a user ID", with("sender", "alice"), std::nullopt, "M_INVALID_PARAM 400"},
      {"sender with a newline", with("sender", "@a\nb:hs.test"), std::nullopt, "M_INVALID_PARAM 400"},
      {"room_id empty", with("room_id", ""), std::nullopt, "M_INVALID_PARAM 400"},
      {"room_id without '!'", with("room_id", "#alias:hs.test"), std::nullopt, "M_INVALID_PARAM 400"},
  };
  for (const Case& c : cases) EXPECT_EQ(refusal_of(c.body, c.owner), c.expected) << c.what;
}

// Refusals that wait for the "already bound?" lookup: the body parses, with the error to throw after it.
TEST(StoreInviteRequest, UndeliverableAddressesCarryTheirRefusal) {
  struct Case {
    const char* medium;
    std::string address;
    std::optional<std::string> canonical;
    std::string expected;
  };
  const Case cases[] = {
      {"msisdn", "447700900000", std::string("447700900000"), "M_UNRECOGNIZED"},  // a bound msisdn answers M_THREEPID_IN_USE first
      {"msisdn", "", std::nullopt, "M_UNRECOGNIZED"},
      {"email", "", std::nullopt, "M_INVALID_PARAM"},
      {"email", std::string(495, 'a') + "@b.org", std::nullopt, "M_INVALID_PARAM"},  // 501 bytes
      {"email", "not an address", std::nullopt, "M_INVALID_EMAIL"},
      {"email", "a@b@c", std::nullopt, "M_INVALID_EMAIL"},
      {"email", "alice@example.org", std::string("alice@example.org"), ""},
  };
  for (const Case& c : cases) {
    nlohmann::json body = good_body();
    body["medium"] = c.medium;
    body["address"] = c.address;
    const StoreInviteRequest r = parse_store_invite_request(body, std::nullopt);
    EXPECT_EQ(r.canonical, c.canonical) << c.medium << " " << c.address;
    EXPECT_EQ(r.refusal ? std::string(r.refusal->errcode()) : "", c.expected) << c.medium << " " << c.address;
  }
}

}  // namespace
}  // namespace herald::identity
