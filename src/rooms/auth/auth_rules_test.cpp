#include "rooms/auth/auth_rules.h"

#include <gtest/gtest.h>

#include "crypto/base64.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "events/event_builder.h"
#include "events/room_version.h"

namespace herald::rooms::auth {
namespace {
using events::EventDraft;
using events::EventPtr;

const crypto::SigningKey& server_key() {
  static const crypto::SigningKey key = crypto::SigningKey::from_seed(std::string(32, 'k'), "t");
  return key;
}

// Builds a room in a given version: alice creates it; members and state are added through apply().
class RoomBuilder {
 public:
  explicit RoomBuilder(std::string_view version) : version_(*events::find_room_version(version)), state_(version_) {
    nlohmann::json content = {{"room_version", std::string(version)}};
    if (version_.creator_in_content) content["creator"] = "@alice:hs";
    last_ = make({"m.room.create", "", "@alice:hs", content, std::nullopt});
    room_id_ = last_->room_id();
    state_.apply(last_);
    add({"m.room.member", "@alice:hs", "@alice:hs", {{"membership", "join"}}, std::nullopt});
    nlohmann::json pl = {{"users", nlohmann::json::object()}, {"ban", 50}, {"kick", 50}, {"invite", 50},
                         {"state_default", 50}, {"events_default", 0}, {"redact", 50}};
    if (!version_.infinite_creator_power) pl["users"]["@alice:hs"] = 100;
    pl["users"]["@mod:hs"] = 50;
    add({"m.room.power_levels", "", "@alice:hs", pl, std::nullopt});
    join_rule("invite");
  }

  EventPtr make(EventDraft d) {
    std::vector<EventPtr> prev;
    if (last_) prev.push_back(last_);
    return events::build_event(version_, room_id_, d, prev, {}, depth_++, 1000, events::Signer{"hs", server_key()});
  }
  void add(EventDraft d) {
    last_ = make(std::move(d));
    auto denial = check_event(*last_, state_);
    ASSERT_FALSE(denial) << "setup event refused: " << denial->reason;
    state_.apply(last_);
  }
  void force(EventDraft d) {  // set state without checking (to build unusual situations)
    last_ = make(std::move(d));
    state_.apply(last_);
  }
  void join_rule(const std::string& rule) { force({"m.room.join_rules", "", "@alice:hs", {{"join_rule", rule}}, std::nullopt}); }
  void member(const std::string& user, const std::string& membership, const std::string& sender = "@alice:hs") {
    force({"m.room.member", user, sender, {{"membership", membership}}, std::nullopt});
  }
  std::optional<Denial> check(EventDraft d) { return check_event(*make(std::move(d)), state_); }
  const RoomState& state() const { return state_; }
  const events::RoomVersion& version() const { return version_; }

 private:
  const events::RoomVersion& version_;
  RoomState state_;
  std::string room_id_ = "!room:hs";
  EventPtr last_;
  std::int64_t depth_ = 1;
};

EventDraft member_event(const std::string& sender, const std::string& target, const std::string& membership) {
  return {"m.room.member", target, sender, {{"membership", membership}}, std::nullopt};
}

struct MemberCase {
  const char* rule;  // the spec clause
  const char* join_rule;
  std::vector<std::pair<std::string, std::string>> setup;  // user -> membership
  const char* sender;
  const char* target;
  const char* membership;
  bool allowed;
};

}  // namespace

TEST(AuthRules, MemberRulesTable) {
  const std::vector<MemberCase> cases = {
      {"6.3.2 join: sender must be the target", "public", {}, "@bob:hs", "@carol:hs", "join", false},
      {"6.3.3 join: banned sender", "public", {{"@bob:hs", "ban"}}, "@bob:hs", "@bob:hs", "join", false},
      {"6.3.4 join: invite-only, not invited", "invite", {}, "@bob:hs", "@bob:hs", "join", false},
      {"6.3.4 join: invite-only, invited", "invite", {{"@bob:hs", "invite"}}, "@bob:hs", "@bob:hs", "join", true},
      {"6.3.4 join: invite-only, already joined", "invite", {{"@bob:hs", "join"}}, "@bob:hs", "@bob:hs", "join", true},
      {"6.3.6 join: public room", "public", {}, "@bob:hs", "@bob:hs", "join", true},
      {"6.3.7 join: private join rule", "private", {{"@bob:hs", "invite"}}, "@bob:hs", "@bob:hs", "join", false},
      {"6.4.2 invite: sender not joined", "invite", {}, "@bob:hs", "@carol:hs", "invite", false},
      {"6.4.3 invite: target already joined", "invite", {{"@bob:hs", "join"}}, "@alice:hs", "@bob:hs", "invite", false},
      {"6.4.3 invite: target banned", "invite", {{"@bob:hs", "ban"}}, "@alice:hs", "@bob:hs", "invite", false},
      {"6.4.4 invite: power level too low", "invite", {{"@bob:hs", "join"}}, "@bob:hs", "@carol:hs", "invite", false},
      {"6.4.4 invite: enough power", "invite", {}, "@alice:hs", "@carol:hs", "invite", true},
      {"6.4.4 invite: re-invite an invited user", "invite", {{"@bob:hs", "invite"}}, "@alice:hs", "@bob:hs", "invite", true},
      {"6.5.1 leave: self, joined", "invite", {{"@bob:hs", "join"}}, "@bob:hs", "@bob:hs", "leave", true},
      {"6.5.1 leave: self, reject invite", "invite", {{"@bob:hs", "invite"}}, "@bob:hs", "@bob:hs", "leave", true},
      {"6.5.1 leave: self, not in room", "invite", {}, "@bob:hs", "@bob:hs", "leave", false},
      {"6.5.1 leave: self, banned cannot unban", "invite", {{"@bob:hs", "ban"}}, "@bob:hs", "@bob:hs", "leave", false},
      {"6.5.2 kick: sender not joined", "invite", {{"@bob:hs", "join"}}, "@carol:hs", "@bob:hs", "leave", false},
      {"6.5.3 unban: needs ban level", "invite", {{"@bob:hs", "ban"}, {"@dan:hs", "join"}}, "@dan:hs", "@bob:hs", "leave", false},
      {"6.5.4 kick: by admin", "invite", {{"@bob:hs", "join"}}, "@alice:hs", "@bob:hs", "leave", true},
      {"6.5.4 kick: revoke an invite", "invite", {{"@bob:hs", "invite"}}, "@alice:hs", "@bob:hs", "leave", true},
      {"6.5.4 kick: moderator cannot kick admin", "invite", {{"@mod:hs", "join"}}, "@mod:hs", "@alice:hs", "leave", false},
      {"6.5.4 kick: no kick power", "invite", {{"@bob:hs", "join"}, {"@dan:hs", "join"}}, "@dan:hs", "@bob:hs", "leave", false},
      {"6.6 ban: by admin", "invite", {}, "@alice:hs", "@carol:hs", "ban", true},
      {"6.6 ban: sender not joined", "invite", {}, "@bob:hs", "@carol:hs", "ban", false},
      {"6.6 ban: no ban power", "invite", {{"@bob:hs", "join"}}, "@bob:hs", "@carol:hs", "ban", false},
      {"6.6 ban: moderator cannot ban admin", "invite", {{"@mod:hs", "join"}}, "@mod:hs", "@alice:hs", "ban", false},
      {"6.7 knock: knock room", "knock", {}, "@bob:hs", "@bob:hs", "knock", true},
      {"6.7 knock: not a knock room", "invite", {}, "@bob:hs", "@bob:hs", "knock", false},
      {"6.7 knock: only as yourself", "knock", {}, "@bob:hs", "@carol:hs", "knock", false},
      {"6.7 knock: already invited", "knock", {{"@bob:hs", "invite"}}, "@bob:hs", "@bob:hs", "knock", false},
      {"6.7 knock: banned", "knock", {{"@bob:hs", "ban"}}, "@bob:hs", "@bob:hs", "knock", false},
      {"6.3.4 join: knock room, invited", "knock", {{"@bob:hs", "invite"}}, "@bob:hs", "@bob:hs", "join", true},
      {"6.8 unknown membership", "public", {}, "@bob:hs", "@bob:hs", "dance", false},
  };
  for (std::string_view version : {"1", "6", "10", "11", "12"}) {
    for (const auto& c : cases) {
      RoomBuilder room(version);
      if (!room.version().knock && std::string_view(c.membership) == "knock") continue;
      if (!room.version().knock && std::string_view(c.join_rule) == "knock") continue;
      room.join_rule(c.join_rule);
      for (const auto& [user, membership] : c.setup) room.member(user, membership);
      const auto denial = room.check(member_event(c.sender, c.target, c.membership));
      EXPECT_EQ(!denial, c.allowed) << "v" << version << " " << c.rule << (denial ? ": " + denial->reason : "");
      if (denial) {
        EXPECT_FALSE(denial->reason.empty());
      }
    }
  }
}

TEST(AuthRules, KnockNeedsVersion7) {
  RoomBuilder room("6");
  room.join_rule("knock");
  EXPECT_TRUE(room.check(member_event("@bob:hs", "@bob:hs", "knock"))) << "knock is unknown before v7";
  EXPECT_TRUE(room.check(member_event("@bob:hs", "@bob:hs", "join"))) << "unknown join rule admits nobody";
}

TEST(AuthRules, RestrictedJoinFromVersion8) {
  RoomBuilder room("8");
  room.join_rule("restricted");
  room.member("@mod:hs", "join");
  EXPECT_TRUE(room.check(member_event("@bob:hs", "@bob:hs", "join")));
  EventDraft via = member_event("@bob:hs", "@bob:hs", "join");
  via.content["join_authorised_via_users_server"] = "@alice:hs";
  EXPECT_FALSE(room.check(via));
  via.content["join_authorised_via_users_server"] = "@dan:hs";
  EXPECT_TRUE(room.check(via)) << "the authorising user must be joined";
}

TEST(AuthRules, NonMemberEventsTable) {
  RoomBuilder room("11");
  room.member("@bob:hs", "join");
  room.member("@mod:hs", "join");
  // Rule 7: sender not joined.
  EXPECT_TRUE(room.check({"m.room.message", std::nullopt, "@carol:hs", {{"body", "hi"}}, std::nullopt}));
  // Rule 9: state_default 50.
  EXPECT_TRUE(room.check({"m.room.name", "", "@bob:hs", {{"name", "x"}}, std::nullopt}));
  EXPECT_FALSE(room.check({"m.room.name", "", "@mod:hs", {{"name", "x"}}, std::nullopt}));
  EXPECT_FALSE(room.check({"m.room.message", std::nullopt, "@bob:hs", {{"body", "hi"}}, std::nullopt}));
  // Rule 10: state keyed by another user.
  EXPECT_TRUE(room.check({"m.custom", "@bob:hs", "@mod:hs", nlohmann::json::object(), std::nullopt}));
  // Rule 8: third-party invites need the invite level.
  EXPECT_TRUE(room.check({"m.room.third_party_invite", "tok", "@bob:hs", {{"display_name", "x"}}, std::nullopt}));
  EXPECT_FALSE(room.check({"m.room.third_party_invite", "tok", "@mod:hs", {{"display_name", "x"}}, std::nullopt}));
}

TEST(AuthRules, PowerLevelChanges) {
  RoomBuilder room("10");
  room.member("@mod:hs", "join");
  room.member("@bob:hs", "join");
  auto pl = [](nlohmann::json users, nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json c = {{"users", users}, {"ban", 50}, {"kick", 50}, {"invite", 50}, {"state_default", 50},
                        {"events_default", 0}, {"redact", 50}};
    c.update(extra);
    return EventDraft{"m.room.power_levels", "", "@mod:hs", c, std::nullopt};
  };
  const nlohmann::json base = {{"@alice:hs", 100}, {"@mod:hs", 50}};
  // 11.10: a moderator cannot raise anyone above themselves; 11.9: nor change someone at their level.
  EXPECT_TRUE(room.check(pl({{"@alice:hs", 100}, {"@mod:hs", 50}, {"@bob:hs", 60}})));
  EXPECT_FALSE(room.check(pl({{"@alice:hs", 100}, {"@mod:hs", 50}, {"@bob:hs", 50}})));  // equal to own level is allowed
  EXPECT_TRUE(room.check(pl({{"@alice:hs", 10}, {"@mod:hs", 50}})));
  // Lowering yourself is fine.
  EXPECT_FALSE(room.check(pl({{"@alice:hs", 100}, {"@mod:hs", 10}})));
  // 11.1 (v10): integers only.
  EXPECT_TRUE(room.check(pl(base, {{"ban", "50"}})));
  // 11.6: changing a level above yours.
  EXPECT_TRUE(room.check(pl(base, {{"ban", 40}, {"kick", 40}, {"state_default", 40}, {"invite", 40}, {"redact", 40},
                                   {"events", {{"m.room.power_levels", 100}}}})));
}

TEST(AuthRules, Version12CreatorsHaveInfinitePower) {
  RoomBuilder room("12");
  room.member("@mod:hs", "join");
  EXPECT_TRUE(room.check(member_event("@mod:hs", "@alice:hs", "ban")));
  EXPECT_TRUE(room.check({"m.room.power_levels", "", "@alice:hs", {{"users", {{"@alice:hs", 100}}}}, std::nullopt}))
      << "creators may not be listed in users";
  EXPECT_FALSE(room.check({"m.room.power_levels", "", "@alice:hs", {{"users", {{"@mod:hs", 99}}}}, std::nullopt}));
}

TEST(AuthRules, ThirdPartyInviteBranch) {
  RoomBuilder room("11");
  const crypto::SigningKey is_key = crypto::SigningKey::from_seed(std::string(32, 'i'), "0");
  room.add({"m.room.third_party_invite", "tok123", "@alice:hs",
            {{"display_name", "c...@e..."}, {"key_validity_url", "http://is/isvalid"},
             {"public_key", is_key.public_key_base64()}},
            std::nullopt});
  nlohmann::json signed_block = {{"mxid", "@carol:hs"}, {"token", "tok123"}};
  crypto::sign_json(signed_block, "is.example", is_key);
  EventDraft invite = member_event("@alice:hs", "@carol:hs", "invite");
  invite.content["third_party_invite"] = {{"display_name", "c...@e..."}, {"signed", signed_block}};
  EXPECT_FALSE(room.check(invite));
  EventDraft wrong_sender = invite;
  wrong_sender.sender = "@mod:hs";
  EXPECT_TRUE(room.check(wrong_sender));
  EventDraft wrong_mxid = invite;
  wrong_mxid.state_key = "@dan:hs";
  EXPECT_TRUE(room.check(wrong_mxid));
  EventDraft forged = invite;
  forged.content["third_party_invite"]["signed"]["mxid"] = "@carol:hs";
  forged.content["third_party_invite"]["signed"]["signatures"]["is.example"]["ed25519:0"] = "AAAA";
  EXPECT_TRUE(room.check(forged));
  // A revoked third-party invite (empty content) no longer admits anyone.
  room.add({"m.room.third_party_invite", "tok123", "@alice:hs", nlohmann::json::object(), std::nullopt});
  EXPECT_TRUE(room.check(invite));
}

TEST(AuthRules, CreateEventRules) {
  RoomBuilder room("11");
  EXPECT_TRUE(room.check({"m.room.create", "", "@alice:hs", {{"room_version", "99"}}, std::nullopt}))
      << "prev_events present and unknown version";
}

TEST(AuthRules, Rule3AuthEventsOfReceivedEvents) {
  for (std::string_view version : {"6", "11", "12"}) {
    RoomBuilder room(version);
    const auto& v = room.version();
    // Build a "received" invite with hand-picked auth events.
    const EventPtr invite = room.make(member_event("@alice:hs", "@bob:hs", "invite"));
    const RoomState& current = room.state();
    auto pick = [&](const char* type, const std::string& key = "") { return *current.find(type, key); };
    std::vector<EventPtr> good = {pick("m.room.power_levels"), pick("m.room.member", "@alice:hs"), pick("m.room.join_rules")};
    if (v.create_in_auth_events) good.push_back(pick("m.room.create"));
    EXPECT_FALSE(check_auth_events(*invite, good, v)) << "v" << version;
    // 3.1 duplicates.
    auto dup = good;
    dup.push_back(pick("m.room.power_levels"));
    EXPECT_TRUE(check_auth_events(*invite, dup, v)) << "v" << version;
    // 3.2 an event outside the selection (m.room.history_visibility is never an auth event).
    room.force({"m.room.history_visibility", "", "@alice:hs", {{"history_visibility", "shared"}}, std::nullopt});
    auto extra = good;
    extra.push_back(*room.state().find("m.room.history_visibility"));
    EXPECT_TRUE(check_auth_events(*invite, extra, v)) << "v" << version;
    // 3.4 (v1-11) no create event.
    std::vector<EventPtr> no_create = {pick("m.room.power_levels"), pick("m.room.member", "@alice:hs")};
    EXPECT_EQ(check_auth_events(*invite, no_create, v).has_value(), v.create_in_auth_events) << "v" << version;
    // The event passes the rules against the state its auth events make.
    const RoomState from_auth = auth_state(v, good, v.create_in_auth_events ? nullptr : pick("m.room.create"));
    EXPECT_FALSE(check_event(*invite, from_auth)) << "v" << version;
  }
}

TEST(AuthRules, AuthEventSelection) {
  const auto& v11 = *events::find_room_version("11");
  const auto& v12 = *events::find_room_version("12");
  const nlohmann::json join = {{"membership", "join"}};
  const std::string bob = "@b:hs";
  auto keys = auth_event_keys(v11, "m.room.member", &bob, "@a:hs", {{"membership", "invite"}});
  EXPECT_EQ(keys, (std::vector<StateKey>{{"m.room.create", ""}, {"m.room.power_levels", ""}, {"m.room.member", "@a:hs"},
                                         {"m.room.member", "@b:hs"}, {"m.room.join_rules", ""}}));
  std::string self = "@a:hs";
  keys = auth_event_keys(v12, "m.room.member", &self, "@a:hs", join);
  EXPECT_EQ(keys, (std::vector<StateKey>{{"m.room.power_levels", ""}, {"m.room.member", "@a:hs"}, {"m.room.join_rules", ""}}));
  EXPECT_TRUE(auth_event_keys(v11, "m.room.create", &self, "@a:hs", join).empty());
}

}  // namespace herald::rooms::auth
