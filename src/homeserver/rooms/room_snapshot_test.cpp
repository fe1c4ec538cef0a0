// check_room_snapshot: a send_join answer built here by a "resident" server whose key only this test
// holds; each check has a case that fails it.
#include "homeserver/rooms/room_snapshot.h"

#include <gtest/gtest.h>

#include "crypto/signing_key.h"
#include "events/event_builder.h"
#include "events/room_version.h"
#include "federation/server_key_ring.h"
#include "rooms/auth/auth_rules.h"
#include "rooms/room_state.h"

namespace herald::homeserver {
namespace {
using events::EventPtr;

const std::string kServer = "resident.test";
const std::string kAlice = "@alice:resident.test";

// A small room (create, alice's join, power levels, join rules public, a name, bob's join) built on the
// resident's key, in room version `version_id`.
class Snapshot {
 public:
  explicit Snapshot(const std::string& version_id) : version(*events::find_room_version(version_id)), state(version) {
    nlohmann::json create_content = {{"room_version", version_id}};
    if (version.creator_in_content) create_content["creator"] = kAlice;
    create = add({"m.room.create", "", kAlice, create_content, std::nullopt}, "!room:resident.test");
    room_id = create->room_id();
    add({"m.room.member", kAlice, kAlice, {{"membership", "join"}}, std::nullopt});
    // From v12 the creator's power is implied and may not be listed.
    const nlohmann::json users = version.infinite_creator_power ? nlohmann::json::object() : nlohmann::json{{kAlice, 100}};
    add({"m.room.power_levels", "", kAlice, {{"users", users}}, std::nullopt});
    add({"m.room.join_rules", "", kAlice, {{"join_rule", "public"}}, std::nullopt});
    add({"m.room.name", "", kAlice, {{"name", "Tea"}}, std::nullopt});
    add({"m.room.member", "@bob:resident.test", "@bob:resident.test", {{"membership", "join"}}, std::nullopt});
    keys.add(kServer, key.key_id(), key.public_key());
  }

  EventPtr add(const events::EventDraft& draft, const std::string& id = "") {
    std::vector<EventPtr> auth;
    for (const auto& [t, k] : rooms::auth::auth_event_keys(version, draft.type, draft.state_key ? &*draft.state_key : nullptr,
                                                           draft.sender, draft.content))
      if (const EventPtr* e = state.find(t, k)) auth.push_back(*e);
    std::vector<EventPtr> prev;
    if (last) prev.push_back(last);
    const events::Signer signer{kServer, key};
    EventPtr e = events::build_event(version, id.empty() ? room_id : id, draft, prev, auth, last ? last->depth() + 1 : 1,
                                     1700000000000, signer);
    EXPECT_FALSE(rooms::auth::check_event(*e, state).has_value()) << draft.type;
    state.apply(e);
    all.push_back(e);
    last = e;
    return e;
  }

  nlohmann::json pdus() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : all) out.push_back(e->pdu());
    return out;
  }

  const events::RoomVersion& version;
  rooms::RoomState state;
  crypto::SigningKey key = crypto::SigningKey::generate("r1");
  federation::StaticServerKeyRing keys;
  std::vector<EventPtr> all;
  EventPtr last, create;
  std::string room_id;
};

std::set<std::string> ids(const std::vector<EventPtr>& events) {
  std::set<std::string> out;
  for (const auto& e : events) out.insert(e->event_id());
  return out;
}

TEST(RoomSnapshot, AValidAnswerIsTheRoomsStateInEveryVersionFamily) {
  for (const char* v : {"1", "3", "10", "12"}) {
    Snapshot s(v);
    const RoomSnapshot out = check_room_snapshot(s.version, s.room_id, s.pdus(), nlohmann::json::array(), s.keys);
    EXPECT_EQ(ids(out.state), ids(s.all)) << "v" << v;
    EXPECT_TRUE(out.auth_chain.empty());
    EXPECT_TRUE(out.refused.empty()) << out.refused.front();
    EXPECT_EQ(out.create->event_id(), s.create->event_id());
  }
}

TEST(RoomSnapshot, AuthEventsOutsideTheStateAreTheAuthChain) {
  Snapshot s("10");
  const EventPtr old_name = s.all.back();  // bob's join is last; the name before it
  (void)old_name;
  // A second power levels event: the first is then only in the auth chain.
  const EventPtr first_pl = s.all[2];
  s.add({"m.room.power_levels", "", kAlice, {{"users", {{kAlice, 100}}}, {"events_default", 0}}, std::nullopt});
  nlohmann::json state = nlohmann::json::array(), chain = nlohmann::json::array();
  for (const auto& e : s.all) (e == first_pl ? chain : state).push_back(e->pdu());
  const RoomSnapshot out = check_room_snapshot(s.version, s.room_id, state, chain, s.keys);
  EXPECT_EQ(ids(out.auth_chain), std::set<std::string>{first_pl->event_id()});
  EXPECT_EQ(out.state.size(), s.all.size() - 1);
}

TEST(RoomSnapshot, AnUnknownSignerIsRefusedAndSoIsWhatRestsOnIt) {
  Snapshot s("10");
  federation::StaticServerKeyRing empty;
  EXPECT_THROW(check_room_snapshot(s.version, s.room_id, s.pdus(), nlohmann::json::array(), empty), std::runtime_error);

  // A forged join_rules event (signed by another key): refused, and bob's join resting on it too.
  Snapshot t("10");
  nlohmann::json pdus = t.pdus();
  crypto::SigningKey other = crypto::SigningKey::generate("r1");
  for (auto& p : pdus) {
    if (p["type"] == "m.room.join_rules") {
      p["signatures"] = nlohmann::json::object();
      events::Signer forger{kServer, other};
      p = events::sign_event(t.version, t.room_id, p, forger)->pdu();
    }
  }
  const RoomSnapshot out = check_room_snapshot(t.version, t.room_id, pdus, nlohmann::json::array(), t.keys);
  EXPECT_EQ(out.refused.size(), 2u);
  for (const auto& e : out.state) {
    EXPECT_NE(e->type(), "m.room.join_rules");
    EXPECT_NE(e->state_key() ? *e->state_key() : "", "@bob:resident.test");
  }
}

TEST(RoomSnapshot, AContentHashMismatchKeepsTheRedactedEvent) {
  Snapshot s("10");
  nlohmann::json pdus = s.pdus();
  for (auto& p : pdus)
    if (p["type"] == "m.room.name") p["content"]["name"] = "Coffee";  // signature still fine: content is redacted away
  const RoomSnapshot out = check_room_snapshot(s.version, s.room_id, pdus, nlohmann::json::array(), s.keys);
  bool seen = false;
  for (const auto& e : out.state) {
    if (e->type() != "m.room.name") continue;
    seen = true;
    EXPECT_FALSE(e->content().contains("name"));
  }
  EXPECT_TRUE(seen);
}

TEST(RoomSnapshot, AnUnauthorisedEventIsRefused) {
  Snapshot s("10");
  // carol sets the name without being in the room: signed fine, not allowed by its auth events.
  std::vector<EventPtr> auth{s.create, s.all[2]};
  const events::Signer signer{kServer, s.key};
  const EventPtr bad = events::build_event(s.version, s.room_id, {"m.room.topic", "", "@carol:resident.test", {{"topic", "x"}}, std::nullopt},
                                           {s.last}, auth, s.last->depth() + 1, 1700000000001, signer);
  nlohmann::json pdus = s.pdus();
  pdus.push_back(bad->pdu());
  const RoomSnapshot out = check_room_snapshot(s.version, s.room_id, pdus, nlohmann::json::array(), s.keys);
  ASSERT_EQ(out.refused.size(), 1u);
  EXPECT_NE(out.refused.front().find(bad->event_id()), std::string::npos);
  EXPECT_EQ(out.state.size(), s.all.size());
}

TEST(RoomSnapshot, UnusableAnswersThrow) {
  Snapshot s("10");
  nlohmann::json no_create = s.pdus();
  no_create.erase(0);
  EXPECT_THROW(check_room_snapshot(s.version, s.room_id, no_create, nlohmann::json::array(), s.keys), std::runtime_error);
  // Another room's events.
  EXPECT_THROW(check_room_snapshot(s.version, "!other:resident.test", s.pdus(), nlohmann::json::array(), s.keys), std::runtime_error);
  // The room's version differs from the one make_join named.
  EXPECT_THROW(check_room_snapshot(*events::find_room_version("9"), s.room_id, s.pdus(), nlohmann::json::array(), s.keys),
               std::runtime_error);
  // The create event in the auth chain only.
  nlohmann::json chain = nlohmann::json::array({no_create.size() ? s.create->pdu() : nlohmann::json()});
  EXPECT_THROW(check_room_snapshot(s.version, s.room_id, no_create, chain, s.keys), std::runtime_error);
  // Not lists.
  EXPECT_THROW(check_room_snapshot(s.version, s.room_id, nlohmann::json::object(), nlohmann::json::array(), s.keys), std::runtime_error);
  // Too many events.
  EXPECT_THROW(check_room_snapshot(s.version, s.room_id, s.pdus(), nlohmann::json::array(), s.keys, 3), std::runtime_error);
}

TEST(RoomSnapshot, TwoStateEventsForOneKeyThrow) {
  Snapshot s("10");
  const EventPtr first_name = s.all[4];
  s.add({"m.room.name", "", kAlice, {{"name", "Coffee"}}, std::nullopt});
  nlohmann::json pdus = s.pdus();  // both names listed as state
  EXPECT_THROW(check_room_snapshot(s.version, s.room_id, pdus, nlohmann::json::array(), s.keys), std::runtime_error);
  (void)first_name;
}

TEST(RoomSnapshot, KeysNeededAreListedPerServerAndKey) {
  Snapshot s("10");
  const auto keys = snapshot_keys(s.version, s.pdus(), nlohmann::json::array());
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].server, kServer);
  EXPECT_EQ(keys[0].key_id, s.key.key_id());
  EXPECT_EQ(keys[0].at_ms, 1700000000000);
}

}  // namespace
}  // namespace herald::homeserver
