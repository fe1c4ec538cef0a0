#include "homeserver/federation/federation_knocker.h"

#include <gtest/gtest.h>

#include "events/room_version.h"
#include "homeserver/membership/membership_from_template.h"
#include "homeserver/membership/remote_knocks.h"

namespace herald::homeserver {
namespace {

nlohmann::json knock_template(const std::string& membership = "knock") {
  return {{"type", "m.room.member"},  {"room_id", "!r:there"},        {"sender", "@bob:here"},
          {"state_key", "@bob:here"}, {"content", {{"membership", membership}}}, {"prev_events", {"$p"}},
          {"auth_events", {"$a"}},    {"depth", 4},                    {"origin_server_ts", 1}};
}

TEST(OutboundKnock, AsksOnlyForRoomVersionsWithKnocking) {
  const std::string q = outbound_knock::version_query();
  EXPECT_EQ(q.rfind("?ver=7", 0), 0u) << q;
  EXPECT_NE(q.find("&ver=10"), std::string::npos) << q;
  EXPECT_EQ(q.find("ver=6"), std::string::npos) << q;
  EXPECT_EQ(q.find("ver=1&"), std::string::npos) << q;
}

TEST(OutboundKnock, TemplateMustBeAKnockOfTheUserInAKnockableVersion) {
  const nlohmann::json ok = {{"room_version", "10"}, {"event", knock_template()}};
  const auto t = outbound_knock::check_template(ok, "!r:there", "@bob:here");
  EXPECT_EQ(t.room_version, "10");
  EXPECT_EQ(t.event["content"]["membership"], "knock");

  nlohmann::json old = ok;
  old["room_version"] = "6";
  EXPECT_THROW(outbound_knock::check_template(old, "!r:there", "@bob:here"), std::runtime_error);
  nlohmann::json unknown = ok;
  unknown["room_version"] = "nonsense";
  EXPECT_THROW(outbound_knock::check_template(unknown, "!r:there", "@bob:here"), std::runtime_error);
  nlohmann::json unnamed = ok;
  unnamed.erase("room_version");  // make_knock postdates room versions: there is no default
  EXPECT_THROW(outbound_knock::check_template(unnamed, "!r:there", "@bob:here"), std::runtime_error);
  const nlohmann::json join = {{"room_version", "10"}, {"event", knock_template("join")}};
  EXPECT_THROW(outbound_knock::check_template(join, "!r:there", "@bob:here"), InvalidTemplate);
  EXPECT_THROW(outbound_knock::check_template(ok, "!r:there", "@carol:here"), InvalidTemplate);
  EXPECT_THROW(outbound_knock::check_template(ok, "!other:there", "@bob:here"), InvalidTemplate);
  EXPECT_THROW(outbound_knock::check_template(nlohmann::json::array(), "!r:there", "@bob:here"), std::runtime_error);
}

TEST(OutboundKnock, KnockRoomStateFromTheAnswer) {
  const nlohmann::json state = {{{"type", "m.room.join_rules"}, {"state_key", ""}}};
  EXPECT_EQ(outbound_knock::knock_room_state({{"knock_room_state", state}}), state);
  // The name some servers used before the spec settled on knock_room_state.
  EXPECT_EQ(outbound_knock::knock_room_state({{"knock_state_events", state}}), state);
  EXPECT_EQ(outbound_knock::knock_room_state(nlohmann::json::object()), nlohmann::json::array());
  EXPECT_THROW(outbound_knock::knock_room_state(nlohmann::json::array()), std::runtime_error);
}

TEST(RemoteKnocks, KeptFormCarriesTheStrippedStateAndRoomVersion) {
  nlohmann::json pdu = knock_template();
  pdu["unsigned"] = {{"age", 5}};
  const nlohmann::json answer = nlohmann::json::array(
      {{{"type", "m.room.create"}, {"state_key", ""}, {"sender", "@alice:there"}, {"content", {{"room_version", "10"}}},
        {"depth", 1}, {"signatures", nlohmann::json::object()}},
       "junk"});
  const nlohmann::json kept = remote_knocks::kept_form(pdu, *events::find_room_version("10"), answer);
  EXPECT_EQ(kept["unsigned"]["room_version"], "10");
  EXPECT_FALSE(kept["unsigned"].contains("age"));
  ASSERT_EQ(kept["unsigned"]["knock_room_state"].size(), 1u);
  const nlohmann::json& create = kept["unsigned"]["knock_room_state"][0];
  EXPECT_EQ(create, (nlohmann::json{{"type", "m.room.create"}, {"state_key", ""}, {"sender", "@alice:there"},
                                    {"content", {{"room_version", "10"}}}}));
  EXPECT_EQ(kept["content"], pdu["content"]);
}

}  // namespace
}  // namespace herald::homeserver
