#include "homeserver/membership/remote_invites.h"

#include <gtest/gtest.h>

#include "core/matrix_error.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "events/event_builder.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "federation/server_key_ring.h"

namespace herald::homeserver::remote_invites {
namespace {

const events::RoomVersion& v10() { return *events::find_room_version("10"); }

crypto::SigningKey& their_key() {
  static crypto::SigningKey key = crypto::SigningKey::from_seed(std::string(32, 't'), "k");
  return key;
}

// An invite of @bob:here by @alice:there, signed by "there".
nlohmann::json invite_of(const std::string& sender = "@alice:there", const std::string& invitee = "@bob:here",
                         const std::string& membership = "invite") {
  nlohmann::json pdu = {{"type", "m.room.member"}, {"room_id", "!r:there"}, {"sender", sender},
                        {"state_key", invitee}, {"content", {{"membership", membership}}}, {"depth", 5},
                        {"prev_events", {"$p"}}, {"auth_events", {"$a"}}, {"origin_server_ts", 1000}};
  pdu["hashes"] = {{"sha256", events::content_hash(pdu)}};
  nlohmann::json redacted = events::redact(pdu, v10());
  crypto::sign_json(redacted, "there", their_key());
  pdu["signatures"] = redacted["signatures"];
  return pdu;
}

std::string id_of(const nlohmann::json& pdu) {
  return events::event_id_from_reference_hash(events::reference_hash(pdu, v10()), v10());
}

int status_of(const nlohmann::json& pdu, const std::string& event_id, const std::string& origin = "there") {
  try {
    check_invite_event(pdu, v10(), "!r:there", event_id, origin, "here");
  } catch (const MatrixError& e) {
    return e.http_status();
  }
  return 200;
}

}  // namespace

TEST(RemoteInvites, AnInviteOfALocalUserByAUserOfTheOriginPasses) {
  const nlohmann::json pdu = invite_of();
  EXPECT_EQ(check_invite_event(pdu, v10(), "!r:there", id_of(pdu), "there", "here"), "@bob:here");
}

TEST(RemoteInvites, RefusesWhatIsNotAnInviteFromTheOriginToALocalUser) {
  const nlohmann::json other_server = invite_of("@alice:there", "@bob:elsewhere");
  EXPECT_EQ(status_of(other_server, id_of(other_server)), 403);
  const nlohmann::json not_origin = invite_of("@mallory:elsewhere");
  EXPECT_EQ(status_of(not_origin, id_of(not_origin)), 403);
  const nlohmann::json join = invite_of("@alice:there", "@bob:here", "join");
  EXPECT_EQ(status_of(join, id_of(join)), 400);
  const nlohmann::json pdu = invite_of();
  EXPECT_EQ(status_of(pdu, "$wrong"), 400);
  nlohmann::json message = pdu;
  message["type"] = "m.room.message";
  EXPECT_EQ(status_of(message, id_of(message)), 400);
  EXPECT_EQ(status_of(nlohmann::json::array(), "$x"), 400);
}

TEST(RemoteInvites, TheSenderServersSignatureMustVerify) {
  federation::StaticServerKeyRing keys;
  nlohmann::json pdu = invite_of();
  pdu["unsigned"] = {{"invite_room_state", nlohmann::json::array()}};  // not part of what is signed
  EXPECT_THROW(require_sender_signature(pdu, v10(), keys), MatrixError);  // key unknown
  keys.add("there", their_key().key_id(), their_key().public_key());
  EXPECT_NO_THROW(require_sender_signature(pdu, v10(), keys));
  nlohmann::json tampered = pdu;
  tampered["sender"] = "@eve:there";
  try {
    require_sender_signature(tampered, v10(), keys);
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.http_status(), 400);
    EXPECT_EQ(e.errcode(), "M_INVALID_PARAM");
  }
}

TEST(RemoteInvites, CountersigningAddsOurSignatureAndDropsUnsigned) {
  const crypto::SigningKey ours = crypto::SigningKey::from_seed(std::string(32, 'o'), "o");
  nlohmann::json pdu = invite_of();
  pdu["unsigned"] = {{"invite_room_state", nlohmann::json::array()}};
  const nlohmann::json out = countersign(pdu, v10(), "here", ours);
  EXPECT_FALSE(out.contains("unsigned"));
  EXPECT_EQ(out["signatures"]["there"], pdu["signatures"]["there"]);
  EXPECT_EQ(id_of(out), id_of(invite_of()));  // the event is unchanged
  federation::StaticServerKeyRing keys;
  keys.add("there", their_key().key_id(), their_key().public_key());
  keys.add("here", ours.key_id(), ours.public_key());
  const nlohmann::json redacted = events::redact(out, v10());
  EXPECT_TRUE(crypto::verify_json(redacted, "here", ours.key_id(), ours.public_key()));
  EXPECT_NO_THROW(require_sender_signature(out, v10(), keys));
}

TEST(RemoteInvites, AnOutOfBandLeaveFollowsTheInviteAndIsSignedHere) {
  const crypto::SigningKey ours = crypto::SigningKey::from_seed(std::string(32, 'o'), "o");
  nlohmann::json kept = invite_of();
  const std::string invite_id = id_of(kept);
  kept["unsigned"] = {{"invite_room_state", nlohmann::json::array()}, {"room_version", "10"}};
  const auto leave = out_of_band_leave(kept, invite_id, "!r:there", "@bob:here", std::string("no thanks"), 2000, "here", ours);
  ASSERT_TRUE(leave);
  EXPECT_EQ(leave->type(), "m.room.member");
  EXPECT_EQ(*leave->state_key(), "@bob:here");
  EXPECT_EQ(leave->sender(), "@bob:here");
  EXPECT_EQ(leave->content(), (nlohmann::json{{"membership", "leave"}, {"reason", "no thanks"}}));
  EXPECT_TRUE(leave->prev_event_ids() == std::vector<std::string>{invite_id});
  EXPECT_TRUE(leave->auth_event_ids() == std::vector<std::string>{invite_id});
  EXPECT_EQ(leave->depth(), 6);
  EXPECT_EQ(leave->origin_server_ts(), 2000);
  const nlohmann::json redacted = events::redact(leave->pdu(), v10());
  EXPECT_TRUE(crypto::verify_json(redacted, "here", ours.key_id(), ours.public_key()));
  EXPECT_FALSE(out_of_band_leave(kept, invite_id, "!r:there", "@bob:here", std::nullopt, 2000, "here", ours)
                   ->content()
                   .contains("reason"));
  // Without the room's version (or anything readable) there is no leave to make.
  nlohmann::json no_version = invite_of();
  no_version["unsigned"] = {{"invite_room_state", nlohmann::json::array()}};
  EXPECT_FALSE(out_of_band_leave(no_version, invite_id, "!r:there", "@bob:here", std::nullopt, 2000, "here", ours));
  EXPECT_FALSE(out_of_band_leave(nlohmann::json(), invite_id, "!r:there", "@bob:here", std::nullopt, 2000, "here", ours));
}

TEST(RemoteInvites, StrippedStateKeepsTypeStateKeySenderContent) {
  const nlohmann::json state = nlohmann::json::array(
      {{{"type", "m.room.create"}, {"state_key", ""}, {"sender", "@alice:there"}, {"content", {{"room_version", "10"}}},
        {"event_id", "$c"}, {"hashes", {{"sha256", "x"}}}},
       {{"type", "m.room.name"}, {"state_key", ""}, {"sender", "@alice:there"}, {"content", {{"name", "N"}}}},
       "junk",
       {{"type", "m.room.topic"}}});
  const nlohmann::json out = stripped(state);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (nlohmann::json{{"type", "m.room.create"}, {"state_key", ""}, {"sender", "@alice:there"},
                                    {"content", {{"room_version", "10"}}}}));
  EXPECT_EQ(out[1]["content"]["name"], "N");
  EXPECT_TRUE(stripped(nlohmann::json::object()).empty());
}

TEST(RemoteInvites, ARejectionGoesToTheInviterThenTheStateSendersThenTheRoomsServer) {
  nlohmann::json kept = invite_of();
  kept["unsigned"]["invite_room_state"] = nlohmann::json::array(
      {{{"type", "m.room.create"}, {"sender", "@carol:third"}}, {{"type", "m.room.name"}, {"sender", "@alice:there"}},
       {{"type", "m.room.member"}, {"sender", "@bob:here"}}, "junk", {{"type", "m.room.topic"}}});
  EXPECT_EQ(rejection_servers(kept, "!r:roomhost", "here"), (std::vector<std::string>{"there", "third", "roomhost"}));
  // v12 room IDs name no server; this server is never one to ask.
  EXPECT_EQ(rejection_servers(invite_of(), "!abcdef", "here"), (std::vector<std::string>{"there"}));
  EXPECT_EQ(rejection_servers(invite_of(), "!r:here", "here"), (std::vector<std::string>{"there"}));
  // The invite lost: the room's server is all there is.
  EXPECT_EQ(rejection_servers(nlohmann::json(), "!r:roomhost", "here"), (std::vector<std::string>{"roomhost"}));
}

TEST(RemoteInvites, AKnockIsWithdrawnThroughTheServersOfItsStrippedState) {
  // The knock's sender is the local knocker: the senders of knock_room_state come first.
  nlohmann::json knock = {{"type", "m.room.member"}, {"sender", "@bob:here"}, {"state_key", "@bob:here"}};
  knock["unsigned"]["knock_room_state"] = {{{"type", "m.room.create"}, {"sender", "@alice:there"}},
                                           {{"type", "m.room.member"}, {"sender", "@bob:here"}}};
  EXPECT_EQ(rejection_servers(knock, "!r:roomhost", "here"), (std::vector<std::string>{"there", "roomhost"}));
}

TEST(RemoteInvites, OnlyAKickOrBanOfALocalUserByAUserOfTheOriginCanWithdrawAnInvite) {
  using Found = std::optional<std::pair<std::string, std::string>>;
  EXPECT_EQ(withdrawal_of(invite_of("@alice:there", "@bob:here", "leave"), "there", "here"),
            Found(std::make_pair("@bob:here", "leave")));
  EXPECT_EQ(withdrawal_of(invite_of("@alice:there", "@bob:here", "ban"), "there", "here"),
            Found(std::make_pair("@bob:here", "ban")));
  EXPECT_EQ(withdrawal_of(invite_of("@alice:there", "@bob:here", "join"), "there", "here"), std::nullopt);
  EXPECT_EQ(withdrawal_of(invite_of("@alice:there", "@bob:here", "invite"), "there", "here"), std::nullopt);
  EXPECT_EQ(withdrawal_of(invite_of("@alice:there", "@bob:elsewhere", "leave"), "there", "here"), std::nullopt);
  EXPECT_EQ(withdrawal_of(invite_of("@mallory:elsewhere", "@bob:here", "leave"), "there", "here"), std::nullopt);
  nlohmann::json message = invite_of("@alice:there", "@bob:here", "leave");
  message["type"] = "m.room.message";
  EXPECT_EQ(withdrawal_of(message, "there", "here"), std::nullopt);
  EXPECT_EQ(withdrawal_of(nlohmann::json::array(), "there", "here"), std::nullopt);
  nlohmann::json no_content = invite_of("@alice:there", "@bob:here", "leave");
  no_content["content"] = "leave";
  EXPECT_EQ(withdrawal_of(no_content, "there", "here"), std::nullopt);
}

}  // namespace herald::homeserver::remote_invites
