#include "homeserver/membership/membership_from_template.h"

#include <gtest/gtest.h>

#include <functional>

#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "homeserver/membership/remote_membership.h"
#include "tests/support/room_service_fixture.h"

namespace herald::homeserver {
namespace {

const events::RoomVersion& version(const char* id) { return *events::find_room_version(id); }

crypto::SigningKey& our_key() {
  static crypto::SigningKey key = crypto::SigningKey::from_seed(std::string(32, 'h'), "h");
  return key;
}

// What a resident server's make_leave answers with for @bob:here in !r:there.
nlohmann::json leave_template(const std::string& membership = "leave") {
  return {{"type", "m.room.member"}, {"room_id", "!r:there"}, {"sender", "@bob:here"}, {"state_key", "@bob:here"},
          {"content", {{"membership", membership}}}, {"depth", 7}, {"prev_events", {"$p"}}, {"auth_events", {"$a", "$b"}},
          {"origin_server_ts", 5}};
}

TemplateEvent fill(const nlohmann::json& event, const char* room_version = "10",
                   const nlohmann::json& extra = nlohmann::json::object(), const std::string& membership = "leave") {
  const events::Signer signer{"here", our_key()};
  return membership_from_template(version(room_version), event, "!r:there", "@bob:here", membership, extra, 1234, signer);
}

TEST(MembershipFromTemplate, CompletesAndSignsTheTemplate) {
  const TemplateEvent out = fill(leave_template());
  const nlohmann::json& pdu = out.pdu;
  EXPECT_EQ(pdu["origin_server_ts"], 1234);
  EXPECT_EQ(pdu["depth"], 7);
  EXPECT_EQ(pdu["prev_events"], nlohmann::json::array({"$p"}));
  EXPECT_EQ(pdu["auth_events"], nlohmann::json::array({"$a", "$b"}));
  EXPECT_FALSE(pdu.contains("event_id"));  // v3+: the reference hash names it
  EXPECT_FALSE(pdu.contains("origin"));
  EXPECT_EQ(pdu["hashes"]["sha256"], events::content_hash(pdu));
  EXPECT_EQ(out.event_id, events::event_id_from_reference_hash(events::reference_hash(pdu, version("10")), version("10")));
  const nlohmann::json redacted = events::redact(pdu, version("10"));
  EXPECT_TRUE(crypto::verify_json(redacted, "here", our_key().key_id(), our_key().public_key()));
  // What the resident server checks on send_leave.
  EXPECT_NO_THROW(remote_membership::check_membership_event(pdu, version("10"), "!r:there", out.event_id, "here", "leave"));
}

TEST(MembershipFromTemplate, ReplacesWhatTheTemplateCarriedInHashesSignaturesAndUnsigned) {
  nlohmann::json event = leave_template();
  event["hashes"] = {{"sha256", "bogus"}};
  event["signatures"] = {{"there", {{"ed25519:x", "c2ln"}}}};
  event["unsigned"] = {{"age", 3}};
  event["origin"] = "there";
  const TemplateEvent out = fill(event);
  EXPECT_EQ(out.pdu["signatures"].size(), 1u);
  EXPECT_TRUE(out.pdu["signatures"].contains("here"));
  EXPECT_FALSE(out.pdu.contains("unsigned"));
  EXPECT_EQ(out.pdu["origin"], "here");
  EXPECT_EQ(out.pdu["hashes"]["sha256"], events::content_hash(out.pdu));
}

TEST(MembershipFromTemplate, OldRoomVersionsNameTheEventOnThisServer) {
  const TemplateEvent out = fill(leave_template(), "1");
  EXPECT_EQ(out.pdu["event_id"], out.event_id);
  EXPECT_EQ(out.event_id.front(), '$');
  EXPECT_NE(out.event_id.find(":here"), std::string::npos);
  EXPECT_EQ(out.pdu["origin"], "here");
  EXPECT_NO_THROW(remote_membership::check_membership_event(out.pdu, version("1"), "!r:there", out.event_id, "here", "leave"));
}

TEST(MembershipFromTemplate, ExtraContentIsMergedButCannotChangeTheMembership) {
  const nlohmann::json extra = {{"displayname", "Bob"}, {"membership", "join"}};
  const TemplateEvent out = fill(leave_template(), "10", extra);
  EXPECT_EQ(out.pdu["content"]["displayname"], "Bob");
  EXPECT_EQ(out.pdu["content"]["membership"], "leave");
}

TEST(MembershipFromTemplate, RefusesATemplateThatIsNotWhatWasAskedFor) {
  const auto refused = [](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json event = leave_template();
    change(event);
    try {
      fill(event);
    } catch (const InvalidTemplate& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(refused([](nlohmann::json& e) { e["type"] = "m.room.message"; }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e["room_id"] = "!other:there"; }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e["sender"] = "@eve:here"; }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e["state_key"] = "@eve:here"; }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e["content"]["membership"] = "ban"; }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e["content"] = "leave"; }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e.erase("prev_events"); }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e["auth_events"] = "$a"; }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e["depth"] = "7"; }), "");
  EXPECT_NE(refused([](nlohmann::json& e) { e = nlohmann::json::array(); }), "");
  // No canonical form: floats cannot be hashed or signed.
  EXPECT_NE(refused([](nlohmann::json& e) { e["content"]["weight"] = 1.5; }), "");
  EXPECT_EQ(refused([](nlohmann::json&) {}), "");
  // A join template is not a leave.
  EXPECT_THROW(fill(leave_template("join")), InvalidTemplate);
  EXPECT_NO_THROW(fill(leave_template("join"), "10", nlohmann::json::object(), "join"));
}

// The whole round: a template this server's make_leave serves, completed by the remote user's server with
// membership_from_template, is taken by this server's event pipeline as send_leave does.
class TemplateRoundTrip : public testing::RemoteRoomFixture {};

TEST_F(TemplateRoundTrip, AnInvitedRemoteUserRejectsThroughTheTemplate) {
  const std::string bob = std::string("@bob:") + kRemote;
  testing::run_task(rooms_.set_membership(UserId::parse("@alice:hs.test").value(), rid(), UserId::parse(bob).value(),
                                          rooms::Membership::invite, std::nullopt, nlohmann::json::object()));
  std::vector<std::string> supported;
  for (const auto& v : events::all_room_versions()) supported.emplace_back(v.id);
  const MembershipTemplate made =
      testing::run_task(rooms_.membership_template(rid(), UserId::parse(bob).value(), "leave", supported));
  const events::RoomVersion& room_version = *events::find_room_version(made.room_version);
  const events::Signer signer{kRemote, remote_key_};
  const TemplateEvent leave = membership_from_template(room_version, made.event, room_id_, bob, "leave",
                                                       nlohmann::json::object(), 1'700'000'100'000, signer);
  remote_membership::check_membership_event(leave.pdu, room_version, room_id_, leave.event_id, kRemote, "leave");
  const Received got = testing::run_task(rooms_.receive_relayed(rid(), leave.pdu));
  EXPECT_EQ(got.outcome, Outcome::accepted) << got.reason;
  EXPECT_EQ(got.event_id, leave.event_id);
  EXPECT_EQ(room_now()->state.membership(bob), "leave");
}

}  // namespace
}  // namespace herald::homeserver
