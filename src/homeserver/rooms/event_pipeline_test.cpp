// The event pipeline through RoomService: local events, and events "received" from a second server
// whose key only this test holds. Each check on receipt has a case that fails it.
#include "homeserver/rooms/event_pipeline.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "events/event_builder.h"
#include "events/room_version.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "rooms/auth/auth_rules.h"
#include "storage/account_store.h"
#include "storage/database.h"
#include "storage/event_graph_store.h"
#include "storage/room_store.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/room_service_fixture.h"
#include "tests/support/run_task.h"

namespace herald::homeserver {
using events::EventPtr;
using testing::run_task;
namespace graph = storage::event_graph_store;

namespace {
const UserId kAlice = UserId::parse("@alice:hs.test").value();
const std::string kRob = "@rob:remote.test";
}  // namespace

class EventPipelineTest : public testing::RemoteRoomFixture {
 protected:
  // A PDU from remote.test built on the given prev events, with auth events chosen from `auth_from`
  // (the room's current state when null).
  nlohmann::json remote_pdu(const std::string& type, std::optional<std::string> state_key, nlohmann::json content,
                            std::vector<EventPtr> prev = {}, const rooms::RoomState* auth_from = nullptr,
                            const std::string& sender = kRob, const crypto::SigningKey* key = nullptr) {
    auto r = room_now();
    const rooms::RoomState& state = auth_from ? *auth_from : r->state;
    if (prev.empty()) prev = r->extremities;
    std::vector<EventPtr> auth;
    for (const auto& [t, k] : rooms::auth::auth_event_keys(*r->version, type, state_key ? &*state_key : nullptr, sender, content))
      if (const EventPtr* e = state.find(t, k)) auth.push_back(*e);
    const events::EventDraft draft{type, state_key, sender, std::move(content), std::nullopt};
    const events::Signer signer{"remote.test", key ? *key : remote_key_};
    return events::build_event(*r->version, room_id_, draft, prev, auth, EventPipeline::next_depth(prev), clock_.now_ms(), signer)
        ->pdu();
  }

  Received receive(const nlohmann::json& pdu) { return run_task(rooms_.receive(rid(), {pdu})).at(0); }

  // Rob joins (the room is public) and is made a moderator by Alice.
  void rob_joins_as_moderator() {
    ASSERT_EQ(receive(remote_pdu("m.room.member", kRob, {{"membership", "join"}})).outcome, Outcome::accepted);
    nlohmann::json pl = (*room_now()->state.find("m.room.power_levels"))->content();
    pl["users"][kRob] = 50;
    run_task(rooms_.send(kAlice, "D", rid(), {"m.room.power_levels", "", "", pl, std::nullopt}, std::nullopt));
  }

  std::vector<std::string> extremities() {
    std::vector<std::string> out;
    db_.read_sync([&](storage::sql::Connection& c) { out = graph::forward_extremities(c, room_id_); });
    std::sort(out.begin(), out.end());
    return out;
  }

  std::optional<storage::OutsideEvent> outside(const std::string& id) {
    std::optional<storage::OutsideEvent> out;
    db_.read_sync([&](storage::sql::Connection& c) { out = graph::find_outside(c, id); });
    return out;
  }

};

TEST_F(EventPipelineTest, LocalEventsFormAChainWithStoredStateAndOneExtremity) {
  auto r = room_now();
  ASSERT_EQ(r->extremities.size(), 1u);
  EXPECT_EQ(extremities(), std::vector<std::string>{r->extremities.front()->event_id()});
  db_.read_sync([&](storage::sql::Connection& c) {
    // The stored current state group is exactly the cached state; each event has its groups.
    storage::StateIds cached;
    for (const auto& [key, e] : r->state.events()) cached[key] = e->event_id();
    EXPECT_EQ(graph::state_of_group(c, *graph::room_state_group(c, room_id_)), cached);
    const auto groups = graph::event_state_groups(c, r->extremities.front()->event_id());
    ASSERT_TRUE(groups);
    EXPECT_EQ(graph::state_of_group(c, groups->after), cached);
    // Every event names the one before it.
    const auto prevs = graph::prev_events(c, r->extremities.front()->event_id());
    ASSERT_EQ(prevs.size(), 1u);
    EXPECT_TRUE(storage::room_store::find_event(c, prevs.front()));
  });
}

TEST_F(EventPipelineTest, AcceptsARemoteJoinAndMakesItTheExtremity) {
  const Received joined = receive(remote_pdu("m.room.member", kRob, {{"membership", "join"}}));
  ASSERT_EQ(joined.outcome, Outcome::accepted) << joined.reason;
  EXPECT_TRUE(room_now()->joined.contains(kRob));
  EXPECT_EQ(extremities(), std::vector<std::string>{joined.event_id});
  db_.read_sync([&](storage::sql::Connection& c) {
    EXPECT_EQ(storage::room_store::membership(c, room_id_, kRob)->membership, "join");
  });
  EXPECT_EQ(receive(remote_pdu("m.room.member", kRob, {{"membership", "join"}, {"displayname", "Rob"}})).outcome,
            Outcome::accepted);  // a profile change on top
  // The same PDU twice is stored once.
  const nlohmann::json pdu = remote_pdu("m.room.message", std::nullopt, {{"body", "hi"}, {"msgtype", "m.text"}});
  EXPECT_EQ(receive(pdu).outcome, Outcome::accepted);
  EXPECT_EQ(receive(pdu).outcome, Outcome::duplicate);
}

TEST_F(EventPipelineTest, AForkMergesIntoTheResolvedStateAndTheNextLocalEventNamesBothTips) {
  rob_joins_as_moderator();
  const std::vector<EventPtr> fork_point = room_now()->extremities;
  // Alice sets the topic here; Rob, not having seen it, names the room on the same parent.
  run_task(rooms_.send(kAlice, "D", rid(), {"m.room.topic", "", "", {{"topic", "Tea"}}, std::nullopt}, std::nullopt));
  const std::string topic_id = room_now()->extremities.front()->event_id();
  const Received named = receive(remote_pdu("m.room.name", "", {{"name", "Kitchen"}}, fork_point));
  ASSERT_EQ(named.outcome, Outcome::accepted) << named.reason;
  std::vector<std::string> tips{topic_id, named.event_id};
  std::sort(tips.begin(), tips.end());
  EXPECT_EQ(extremities(), tips);
  EXPECT_EQ(room_now()->state.find("m.room.name")->get()->event_id(), named.event_id);
  EXPECT_EQ(room_now()->state.find("m.room.topic")->get()->event_id(), topic_id);
  db_.read_sync([&](storage::sql::Connection& c) {
    std::set<std::string> current;
    for (const auto& e : storage::room_store::current_state(c, room_id_)) current.insert(e.event_id);
    EXPECT_TRUE(current.contains(named.event_id));
    EXPECT_TRUE(current.contains(topic_id));
  });
  // A local event merges the fork: it names both tips and is the one extremity left.
  const std::string merged = run_task(rooms_.send(kAlice, "D", rid(), {"m.room.message", std::nullopt, "", {{"body", "merged"}}, std::nullopt}, std::nullopt));
  EXPECT_EQ(extremities(), std::vector<std::string>{merged});
  db_.read_sync([&](storage::sql::Connection& c) {
    auto prevs = graph::prev_events(c, merged);
    std::sort(prevs.begin(), prevs.end());
    EXPECT_EQ(prevs, tips);
  });
}

TEST_F(EventPipelineTest, AnEventTheRoomHasMovedPastIsSoftFailed) {
  rob_joins_as_moderator();
  const std::vector<EventPtr> before_ban = room_now()->extremities;
  const rooms::RoomState state_before_ban = room_now()->state;
  run_task(rooms_.set_membership(kAlice, rid(), UserId::parse(kRob).value(), rooms::Membership::ban, std::nullopt, nlohmann::json::object()));
  const std::string ban_id = room_now()->extremities.front()->event_id();
  // Rob's message was allowed where he sent it (before the ban), but the room has banned him since.
  const Received late = receive(remote_pdu("m.room.message", std::nullopt, {{"body", "sneaky"}}, before_ban, &state_before_ban));
  EXPECT_EQ(late.outcome, Outcome::soft_failed) << late.reason;
  EXPECT_FALSE(in_timeline(late.event_id));
  ASSERT_TRUE(outside(late.event_id));
  EXPECT_EQ(outside(late.event_id)->status, storage::OutsideStatus::soft_failed);
  EXPECT_EQ(extremities(), std::vector<std::string>{ban_id});  // not an extremity
}

TEST_F(EventPipelineTest, RejectsWhatItsOwnAuthEventsOrTheStateBeforeItDoNotAllow) {
  ASSERT_EQ(receive(remote_pdu("m.room.member", kRob, {{"membership", "join"}})).outcome, Outcome::accepted);
  const rooms::RoomState joined_state = room_now()->state;
  // Power level 0 may not set the topic (state_default 50): refused by its own auth events.
  const Received topic = receive(remote_pdu("m.room.topic", "", {{"topic", "mine"}}));
  EXPECT_EQ(topic.outcome, Outcome::rejected);
  EXPECT_NE(topic.reason.find("auth events"), std::string::npos) << topic.reason;
  ASSERT_TRUE(outside(topic.event_id));
  EXPECT_EQ(outside(topic.event_id)->status, storage::OutsideStatus::rejected);
  EXPECT_FALSE(in_timeline(topic.event_id));

  // After a ban, a message that cites Rob's old join as its auth but follows the ban is refused by the
  // state before it.
  run_task(rooms_.set_membership(kAlice, rid(), UserId::parse(kRob).value(), rooms::Membership::ban, std::nullopt, nlohmann::json::object()));
  const Received after_ban = receive(remote_pdu("m.room.message", std::nullopt, {{"body", "x"}}, {}, &joined_state));
  EXPECT_EQ(after_ban.outcome, Outcome::rejected);
  EXPECT_EQ(after_ban.reason.find("auth events"), std::string::npos) << after_ban.reason;
  // Alice's name on an event only remote.test signed.
  EXPECT_EQ(receive(remote_pdu("m.room.message", std::nullopt, {{"body", "x"}}, {}, nullptr, "@alice:hs.test")).outcome,
            Outcome::dropped);  // alice's event signed by remote.test: not hs.test's signature
}

TEST_F(EventPipelineTest, DropsEventsWithoutAValidSignatureOfTheSendersServer) {
  const crypto::SigningKey stranger = crypto::SigningKey::generate("remote");  // same key ID, other key
  const Received forged = receive(remote_pdu("m.room.member", kRob, {{"membership", "join"}}, {}, nullptr, kRob, &stranger));
  EXPECT_EQ(forged.outcome, Outcome::dropped);
  EXPECT_FALSE(outside(forged.event_id));
  EXPECT_FALSE(in_timeline(forged.event_id));
  nlohmann::json unsigned_pdu = remote_pdu("m.room.member", kRob, {{"membership", "join"}});
  unsigned_pdu["signatures"] = nlohmann::json::object();
  EXPECT_EQ(receive(unsigned_pdu).outcome, Outcome::dropped);
  // A key nobody vouched for.
  nlohmann::json other = remote_pdu("m.room.member", "@eve:elsewhere.test", {{"membership", "join"}}, {}, nullptr, "@eve:elsewhere.test");
  EXPECT_EQ(receive(other).outcome, Outcome::dropped);
}

TEST_F(EventPipelineTest, AContentHashMismatchStoresTheRedactedEvent) {
  ASSERT_EQ(receive(remote_pdu("m.room.member", kRob, {{"membership", "join"}})).outcome, Outcome::accepted);
  nlohmann::json pdu = remote_pdu("m.room.message", std::nullopt, {{"body", "original"}, {"msgtype", "m.text"}});
  pdu["content"]["body"] = "tampered";  // the signature covers the redacted form only, so it still verifies
  const Received r = receive(pdu);
  ASSERT_EQ(r.outcome, Outcome::accepted) << r.reason;
  EXPECT_TRUE(r.redacted);
  EXPECT_TRUE(r.event->content().empty());
  db_.read_sync([&](storage::sql::Connection& c) {
    const auto stored = storage::room_store::find_event(c, r.event_id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(nlohmann::json::parse(stored->pdu)["content"], nlohmann::json::object());
  });
}

TEST_F(EventPipelineTest, MalformedPdusAreDropped) {
  nlohmann::json big = remote_pdu("m.room.message", std::nullopt, {{"body", std::string(70000, 'x')}});
  EXPECT_EQ(receive(big).outcome, Outcome::dropped);
  nlohmann::json no_type = remote_pdu("m.room.message", std::nullopt, {{"body", "x"}});
  no_type.erase("type");
  EXPECT_EQ(receive(no_type).outcome, Outcome::dropped);
  nlohmann::json wrong_room = remote_pdu("m.room.message", std::nullopt, {{"body", "x"}});
  wrong_room["room_id"] = "!other:hs.test";
  EXPECT_EQ(receive(wrong_room).outcome, Outcome::dropped);
  nlohmann::json floats = remote_pdu("m.room.message", std::nullopt, {{"body", "x"}});
  floats["content"]["n"] = 1.5;
  EXPECT_EQ(receive(floats).outcome, Outcome::dropped);
  nlohmann::json many_prevs = remote_pdu("m.room.message", std::nullopt, {{"body", "x"}});
  for (int i = 0; i < 21; ++i) many_prevs["prev_events"].push_back("$x" + std::to_string(i));
  EXPECT_EQ(receive(many_prevs).outcome, Outcome::dropped);
  EXPECT_EQ(receive(nlohmann::json::array()).outcome, Outcome::dropped);
}

TEST_F(EventPipelineTest, AnEventWithUnknownPrevEventsWaitsAsAnOutlierUntilTheyArrive) {
  ASSERT_EQ(receive(remote_pdu("m.room.member", kRob, {{"membership", "join"}})).outcome, Outcome::accepted);
  // Rob changes his name (held back in transit), then writes a message after it.
  const nlohmann::json rename = remote_pdu("m.room.member", kRob, {{"membership", "join"}, {"displayname", "Rob"}});
  const auto& version = *room_now()->version;
  const std::string rename_id = events::event_id_from_reference_hash(events::reference_hash(rename, version), version);
  const EventPtr rename_event = events::event_from_pdu(version, rename_id, room_id_, rename.dump());
  const nlohmann::json message = remote_pdu("m.room.message", std::nullopt, {{"body", "hi"}}, {rename_event});
  const Received early = receive(message);
  EXPECT_EQ(early.outcome, Outcome::outlier) << early.reason;
  EXPECT_EQ(early.missing_prev_events, std::vector<std::string>{rename_id});
  EXPECT_FALSE(in_timeline(early.event_id));
  EXPECT_EQ(outside(early.event_id)->status, storage::OutsideStatus::outlier);
  db_.read_sync([&](storage::sql::Connection& c) {
    EXPECT_EQ(graph::missing_prev_events(c, room_id_), std::vector<std::string>{rename_id});
  });
  // The rename arrives: the message waiting for it is named for the transport to hand in again.
  const Received arrived = receive(rename);
  ASSERT_EQ(arrived.outcome, Outcome::accepted) << arrived.reason;
  EXPECT_EQ(arrived.unblocked, std::vector<std::string>{early.event_id});
  EXPECT_EQ(extremities(), std::vector<std::string>{rename_id});
  db_.read_sync([&](storage::sql::Connection& c) { EXPECT_TRUE(graph::missing_prev_events(c, room_id_).empty()); });
  // The transport hands the waiting event in again, and it joins the timeline as the new tip.
  const Received again = receive(message);
  ASSERT_EQ(again.outcome, Outcome::accepted) << again.reason;
  EXPECT_TRUE(in_timeline(early.event_id));
  EXPECT_FALSE(outside(early.event_id));
  EXPECT_EQ(extremities(), std::vector<std::string>{early.event_id});
}

TEST_F(EventPipelineTest, ACachedRoomLeftBehindByAnotherWriterIsReloaded) {
  auto cached = room_now();
  // Another process appends an event to the same database: another connection to the file.
  {
    auto other = storage::sqlite::open((dir_.path() / "db.sqlite").string(), false);
    const auto max = storage::room_store::max_stream(*other);
    storage::room_store::insert_event(
        *other, storage::NewEventRow{max + 1, "$elsewhere", room_id_, "m.room.topic", "", kAlice.str(), std::nullopt,
                                     R"({"type":"m.room.topic","state_key":"","sender":"@alice:hs.test","content":{"topic":"from elsewhere"},"room_id":")" +
                                         room_id_ + R"(","origin_server_ts":1,"depth":99,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":{}})",
                                     std::nullopt});
  }
  const std::string sent = run_task(rooms_.send(kAlice, "D", rid(), {"m.room.message", std::nullopt, "", {{"body", "after"}}, std::nullopt}, std::nullopt));
  EXPECT_NE(room_now(), cached);  // reloaded, not the stale copy
  EXPECT_EQ(room_now()->state.find("m.room.topic")->get()->event_id(), "$elsewhere");
  db_.read_sync([&](storage::sql::Connection& c) {
    EXPECT_GT(storage::room_store::find_event(c, sent)->stream, storage::room_store::find_event(c, "$elsewhere")->stream);
  });
}

TEST_F(EventPipelineTest, StateGroupIdsAreReadAgainAfterAnotherWriterAddedGroups) {
  // The writer counts state group IDs while only it writes; a group another process added takes the next
  // ID, so the count must be read again (as data_version tells) or the next state event's group collides.
  const events::EventDraft topic1{"m.room.topic", std::string(""), "", {{"topic", "one"}}, std::nullopt};
  run_task(rooms_.send(kAlice, "D", rid(), topic1, std::nullopt));
  std::int64_t elsewhere = 0;
  {
    auto other = storage::sqlite::open((dir_.path() / "db.sqlite").string(), false);
    elsewhere = graph::add_state_group(*other, room_id_, std::nullopt, {{{"m.room.create", ""}, "$x"}});
  }
  const events::EventDraft topic2{"m.room.topic", std::string(""), "", {{"topic", "two"}}, std::nullopt};
  const std::string sent = run_task(rooms_.send(kAlice, "D", rid(), topic2, std::nullopt));
  db_.read_sync([&](storage::sql::Connection& c) {
    EXPECT_GT(graph::event_state_groups(c, sent)->after, elsewhere);
    EXPECT_EQ(graph::state_of_group(c, graph::event_state_groups(c, sent)->after).at({"m.room.topic", ""}), sent);
  });
}

TEST_F(EventPipelineTest, WithoutOtherWritersTheCachedRoomIsTrusted) {
  // Nothing but this process wrote (SQLite's data_version did not move): no stored-position check, the
  // cached room is used as it is, and the stream counter goes on from where it was.
  run_task(rooms_.send(kAlice, "D", rid(), {"m.room.message", std::nullopt, "", {{"body", "one"}}, std::nullopt}, std::nullopt));
  auto cached = room_now();
  const std::string sent = run_task(rooms_.send(kAlice, "D", rid(), {"m.room.message", std::nullopt, "", {{"body", "two"}}, std::nullopt}, std::nullopt));
  EXPECT_EQ(room_now(), cached);
  db_.read_sync([&](storage::sql::Connection& c) {
    EXPECT_EQ(storage::room_store::find_event(c, sent)->stream, storage::room_store::max_stream(c));
  });
}

}  // namespace herald::homeserver
