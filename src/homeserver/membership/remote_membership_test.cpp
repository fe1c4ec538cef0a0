#include "homeserver/membership/remote_membership.h"

#include <gtest/gtest.h>

#include "core/matrix_error.h"
#include "events/event_builder.h"
#include "events/room_version.h"

namespace herald::homeserver::remote_membership {
namespace {

const events::RoomVersion& v10() { return *events::find_room_version("10"); }

nlohmann::json join_of(const std::string& user, const std::string& membership = "join") {
  nlohmann::json pdu = {{"type", "m.room.member"}, {"room_id", "!r:here"}, {"sender", user}, {"state_key", user},
                        {"content", {{"membership", membership}}}, {"depth", 5}, {"prev_events", {"$p"}},
                        {"auth_events", {"$a"}}, {"origin_server_ts", 1000}, {"origin", "there"}};
  pdu["hashes"] = {{"sha256", events::content_hash(pdu)}};
  pdu["signatures"] = {{"there", {{"ed25519:k", "sig"}}}};
  return pdu;
}

std::string id_of(const nlohmann::json& pdu) {
  return events::event_id_from_reference_hash(events::reference_hash(pdu, v10()), v10());
}

Errc error_of(const nlohmann::json& pdu, const std::string& event_id, const std::string& origin = "there",
              const char* membership = "join") {
  try {
    check_membership_event(pdu, v10(), "!r:here", event_id, origin, membership);
  } catch (const MatrixError& e) {
    return e.errc();
  }
  return Errc::unknown;  // accepted
}

nlohmann::json event(const std::string& type, const std::string& key, nlohmann::json content) {
  return {{"type", type}, {"state_key", key}, {"content", std::move(content)}};
}

}  // namespace

TEST(RemoteMembership, ServerOfAUserId) {
  EXPECT_EQ(server_of("@a:b.example:8448"), "b.example:8448");
  EXPECT_EQ(server_of("nocolon"), "");
}

TEST(RemoteMembership, RoomVersionMustBeOneTheJoiningServerSupports) {
  EXPECT_NO_THROW(require_supported_version("10", {"9", "10"}));
  EXPECT_NO_THROW(require_supported_version("1", {}));  // no ver: ["1"]
  try {
    require_supported_version("10", {});
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.errcode(), "M_INCOMPATIBLE_ROOM_VERSION");
    EXPECT_EQ(e.http_status(), 400);
    EXPECT_NE(e.body().find(R"("room_version":"10")"), std::string::npos) << e.body();
  }
  EXPECT_THROW(require_supported_version("10", {"1", "11"}), MatrixError);
}

TEST(RemoteMembership, KnockingNeedsRoomVersion7) {
  for (const char* id : {"1", "6"}) {
    try {
      require_knock_support(*events::find_room_version(id));
      ADD_FAILURE() << "knock accepted on a v" << id << " room";
    } catch (const MatrixError& e) {
      EXPECT_EQ(e.errc(), Errc::incompatible_room_version);
      EXPECT_EQ(e.http_status(), 400);
    }
  }
  for (const char* id : {"7", "10", "12"}) EXPECT_NO_THROW(require_knock_support(*events::find_room_version(id))) << id;
}

TEST(RemoteMembership, TemplateDropsWhatTheJoiningServerComputes) {
  nlohmann::json built = join_of("@rob:there");
  built["event_id"] = "$x:here";
  const nlohmann::json t = template_of(built);
  EXPECT_FALSE(t.contains("hashes"));
  EXPECT_FALSE(t.contains("signatures"));
  EXPECT_FALSE(t.contains("event_id"));
  EXPECT_EQ(t["prev_events"], built["prev_events"]);
  EXPECT_EQ(t["auth_events"], built["auth_events"]);
  EXPECT_EQ(t["depth"], 5);
  EXPECT_EQ(t["content"]["membership"], "join");
}

TEST(RemoteMembership, SentEventMustBeTheOriginsUsersOwnMembership) {
  const nlohmann::json good = join_of("@rob:there");
  EXPECT_EQ(error_of(good, id_of(good)), Errc::unknown);
  EXPECT_EQ(error_of(good, "$other"), Errc::invalid_param);                     // event ID not the path's
  EXPECT_EQ(error_of(good, id_of(good), "elsewhere"), Errc::invalid_param);     // not the origin's user
  EXPECT_EQ(error_of(good, id_of(good), "there", "leave"), Errc::invalid_param);  // not the membership asked
  nlohmann::json other_key = good;
  other_key["state_key"] = "@alice:here";
  EXPECT_EQ(error_of(other_key, id_of(other_key)), Errc::invalid_param);
  nlohmann::json other_room = good;
  other_room["room_id"] = "!elsewhere:here";
  EXPECT_EQ(error_of(other_room, id_of(other_room)), Errc::invalid_param);
  nlohmann::json message = good;
  message["type"] = "m.room.message";
  EXPECT_EQ(error_of(message, id_of(message)), Errc::invalid_param);
  nlohmann::json no_depth = good;
  no_depth.erase("depth");
  EXPECT_EQ(error_of(no_depth, id_of(no_depth)), Errc::invalid_param);
  EXPECT_EQ(error_of(nlohmann::json::array(), "$x"), Errc::bad_json);
  const nlohmann::json leave = join_of("@rob:there", "leave");
  EXPECT_EQ(error_of(leave, id_of(leave), "there", "leave"), Errc::unknown);
}

TEST(RemoteMembership, WithoutMembersKeepsTheJoinerAndHeroesOfANamelessRoom) {
  StateAtEvent full;
  full.state = {event("m.room.create", "", {}), event("m.room.member", "@a:here", {{"membership", "join"}}),
                event("m.room.member", "@rob:there", {{"membership", "invite"}}),
                event("m.room.member", "@gone:here", {{"membership", "leave"}})};
  full.state_ids = {"$create", "$a", "$rob", "$gone"};
  full.auth_chain = {event("m.room.create", "", {}), event("m.room.member", "@a:here", {{"membership", "join"}}),
                     event("m.room.power_levels", "", {})};
  full.auth_chain_ids = {"$create", "$a", "$pl"};
  StateAtEvent nameless = without_members(full, "@rob:there");
  EXPECT_EQ(nameless.state_ids, (std::vector<std::string>{"$create", "$a", "$rob"}));
  EXPECT_EQ(nameless.auth_chain_ids, (std::vector<std::string>{"$pl"}));  // the rest are in state
  EXPECT_EQ(nameless.state.size(), 3u);

  full.state.push_back(event("m.room.name", "", {{"name", "Named"}}));
  full.state_ids.push_back("$name");
  StateAtEvent named = without_members(full, "@rob:there");
  EXPECT_EQ(named.state_ids, (std::vector<std::string>{"$create", "$rob", "$name"}));
  EXPECT_EQ(named.auth_chain_ids, (std::vector<std::string>{"$a", "$pl"}));  // still what authorises the state
}

}  // namespace herald::homeserver::remote_membership
