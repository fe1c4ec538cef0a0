#include "homeserver/federation/federation_inviter.h"

#include <gtest/gtest.h>

#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "events/event_builder.h"
#include "events/redaction.h"
#include "events/room_version.h"

namespace herald::homeserver::outbound_invite {
namespace {

const events::RoomVersion& v10() { return *events::find_room_version("10"); }

nlohmann::json invite_pdu() {
  nlohmann::json pdu = {{"type", "m.room.member"}, {"room_id", "!r:here"}, {"sender", "@a:here"}, {"state_key", "@b:there"},
                        {"content", {{"membership", "invite"}}}, {"depth", 5}, {"prev_events", {"$p"}},
                        {"auth_events", {"$a"}}, {"origin_server_ts", 1000}};
  pdu["hashes"] = {{"sha256", events::content_hash(pdu)}};
  pdu["signatures"] = {{"here", {{"ed25519:h", "c2ln"}}}};
  return pdu;
}

// `pdu` signed by `server` over its redacted form, as a remote server countersigns.
nlohmann::json signed_by(nlohmann::json pdu, const std::string& server, const crypto::SigningKey& key) {
  nlohmann::json redacted = events::redact(pdu, v10());
  crypto::sign_json(redacted, server, key);
  pdu["signatures"][server] = redacted["signatures"][server];
  return pdu;
}

struct Keys {
  crypto::SigningKey there = crypto::SigningKey::generate("t");
  std::map<std::string, std::string> known() const { return {{there.key_id(), there.public_key()}}; }
};

TEST(OutboundInvite, TakesTheInviteesSignatureAndKeepsTheRest) {
  Keys k;
  const nlohmann::json sent = invite_pdu();
  nlohmann::json answer = signed_by(sent, "there", k.there);
  answer["unsigned"] = {{"age", 5}};
  const nlohmann::json out = countersigned(v10(), sent, answer, "there", k.known());
  EXPECT_EQ(out["signatures"]["here"], sent["signatures"]["here"]);
  EXPECT_EQ(out["signatures"]["there"], answer["signatures"]["there"]);
  EXPECT_FALSE(out.contains("unsigned"));
  EXPECT_EQ(events::reference_hash(out, v10()), events::reference_hash(sent, v10()));
}

TEST(OutboundInvite, RefusesAnotherEvent) {
  Keys k;
  const nlohmann::json sent = invite_pdu();
  nlohmann::json changed = sent;
  changed["content"]["displayname"] = "x";
  changed = signed_by(changed, "there", k.there);
  EXPECT_THROW(countersigned(v10(), sent, changed, "there", k.known()), std::runtime_error);
  EXPECT_THROW(countersigned(v10(), sent, nlohmann::json(), "there", k.known()), std::runtime_error);
}

TEST(OutboundInvite, RefusesAMissingOrBadSignature) {
  Keys k;
  const nlohmann::json sent = invite_pdu();
  EXPECT_THROW(countersigned(v10(), sent, sent, "there", k.known()), std::runtime_error);  // not signed by there
  // Signed by someone else's key under the right name.
  const crypto::SigningKey other = crypto::SigningKey::generate("t");
  EXPECT_THROW(countersigned(v10(), sent, signed_by(sent, "there", other), "there", k.known()), std::runtime_error);
  // A good signature, but the key is unknown.
  EXPECT_THROW(countersigned(v10(), sent, signed_by(sent, "there", k.there), "there", {}), std::runtime_error);
}

TEST(OutboundInvite, V1BodyCarriesTheStateInUnsigned) {
  const nlohmann::json state = nlohmann::json::array({{{"type", "m.room.name"}}});
  const nlohmann::json body = v1_body(invite_pdu(), state);
  EXPECT_EQ(body["unsigned"]["invite_room_state"], state);
  EXPECT_EQ(body["type"], "m.room.member");
}

}  // namespace
}  // namespace herald::homeserver::outbound_invite
