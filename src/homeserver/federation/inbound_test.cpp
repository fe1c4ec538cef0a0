// Receiving transactions (/send) and answering other servers' reads, through the real event pipeline on a
// temporary SQLite database, with PDUs signed by a second server whose key only this test holds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "events/event_builder.h"
#include "homeserver/federation/missing_events_fetcher.h"
#include "homeserver/federation/transaction_receiver.h"
#include "homeserver/rooms/event_pipeline.h"
#include "homeserver/rooms/federation_room_reader.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "http/metrics.h"
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

namespace {
const UserId kAlice = UserId::parse("@alice:hs.test").value();
const std::string kRob = "@rob:remote.test";
constexpr const char* kPdus = "herald_federation_inbound_pdus_total";

// Records what it was asked and answers with what the test put in `answer`.
class FakeFetcher final : public MissingEventsFetcher {
 public:
  struct Call {
    std::string origin;
    std::string room;
    std::vector<std::string> earliest, latest;
    int limit;
  };
  std::vector<Call> calls;
  std::vector<nlohmann::json> answer;

  Task<std::vector<nlohmann::json>> get_missing_events(std::string origin, RoomId room, std::vector<std::string> earliest,
                                                       std::vector<std::string> latest, int limit) override {
    calls.push_back({origin, room.str(), earliest, latest, limit});
    co_return answer;
  }
};
}  // namespace

class InboundTest : public testing::RemoteRoomFixture {
 protected:
  EventPtr build(const std::string& type, std::optional<std::string> state_key, nlohmann::json content,
                 std::vector<EventPtr> prev, std::vector<EventPtr> auth, const std::string& sender = kRob) {
    auto r = room_now();
    const events::EventDraft draft{type, state_key, sender, std::move(content), std::nullopt};
    const events::Signer signer{kRemote, remote_key_};
    return events::build_event(*r->version, room_id_, draft, prev, auth, EventPipeline::next_depth(prev), clock_.now_ms(), signer);
  }
  // On the room's extremities (or `prev`), with auth events from its current state.
  EventPtr remote_event(const std::string& type, std::optional<std::string> state_key, nlohmann::json content,
                        const std::string& sender = kRob, std::vector<EventPtr> prev = {}) {
    auto r = room_now();
    std::vector<EventPtr> auth;
    for (const auto& [t, k] : rooms::auth::auth_event_keys(*r->version, type, state_key ? &*state_key : nullptr, sender, content))
      if (const EventPtr* e = r->state.find(t, k)) auth.push_back(*e);
    return build(type, state_key, std::move(content), prev.empty() ? r->extremities : prev, auth, sender);
  }
  EventPtr message(const std::string& body, std::vector<EventPtr> prev = {}) {
    return remote_event("m.room.message", std::nullopt, {{"body", body}, {"msgtype", "m.text"}}, kRob, std::move(prev));
  }
  EventPtr rob_join() { return remote_event("m.room.member", kRob, {{"membership", "join"}}); }

  nlohmann::json txn(std::vector<nlohmann::json> pdus, nlohmann::json edus = nlohmann::json::array()) {
    return {{"origin", kRemote}, {"origin_server_ts", 1}, {"pdus", std::move(pdus)}, {"edus", std::move(edus)}};
  }
  nlohmann::json send(TransactionReceiver& receiver, const std::string& txn_id, nlohmann::json body) {
    return run_task(receiver.receive(kRemote, txn_id, std::move(body)));
  }
  nlohmann::json send(const std::string& txn_id, nlohmann::json body) { return send(receiver_, txn_id, std::move(body)); }

  void alice_sends_state(const std::string& type, nlohmann::json content) {
    run_task(rooms_.send(kAlice, "D", rid(), {type, "", "", std::move(content), std::nullopt}, std::nullopt));
  }

  FederationRoomReader reader_{db_, rooms_, "hs.test"};
  FakeFetcher fetcher_;
  http::Metrics metrics_;
  TransactionReceiver receiver_{db_, rooms_, reader_, fetcher_, metrics_, clock_, "hs.test"};
};

// /send ----------------------------------------------------------------------------------------------------

TEST_F(InboundTest, AcceptedPdusAnswerWithAnEmptyObjectUnderTheirEventId) {
  const EventPtr join = rob_join();
  const nlohmann::json response = send("t1", txn({join->pdu()}));
  EXPECT_EQ(response, (nlohmann::json{{"pdus", {{join->event_id(), nlohmann::json::object()}}}}));
  EXPECT_TRUE(in_timeline(join->event_id()));
  EXPECT_EQ(metrics_.counter(kPdus, "outcome", "accepted"), 1u);
  EXPECT_EQ(metrics_.counter("herald_federation_inbound_transactions_total", "result", "handled"), 1u);
  EXPECT_NE(metrics_.render().find("herald_federation_inbound_pdus_total{outcome=\"accepted\"} 1"), std::string::npos);
}

TEST_F(InboundTest, ARetriedTransactionGetsTheSameAnswerWithoutBeingHandledAgain) {
  const EventPtr join = rob_join();
  const nlohmann::json first = send("t1", txn({join->pdu()}));
  // The same transaction ID with other content: the stored answer, and the new PDU is not looked at.
  const EventPtr hi = message("hi");
  EXPECT_EQ(send("t1", txn({hi->pdu()})), first);
  EXPECT_FALSE(in_timeline(hi->event_id()));
  EXPECT_EQ(metrics_.counter(kPdus, "outcome", "accepted"), 1u);
  EXPECT_EQ(metrics_.counter("herald_federation_inbound_transactions_total", "result", "retried"), 1u);
  // The answer is stored: a restarted server (a new receiver on the same database) gives it too.
  TransactionReceiver restarted{db_, rooms_, reader_, fetcher_, metrics_, clock_, "hs.test"};
  EXPECT_EQ(send(restarted, "t1", txn({hi->pdu()})), first);
  EXPECT_FALSE(in_timeline(hi->event_id()));
  // Another transaction ID is a new transaction.
  const nlohmann::json second = send("t2", txn({hi->pdu()}));
  EXPECT_EQ(second["pdus"][hi->event_id()], nlohmann::json::object());
  EXPECT_TRUE(in_timeline(hi->event_id()));
}

TEST_F(InboundTest, RejectedAndDroppedPdusGetAnErrorEntryAndTheRestGoOn) {
  // Rob has not joined: his message is not allowed by its auth events.
  const EventPtr early = message("let me in");
  const EventPtr join = rob_join();
  nlohmann::json forged = remote_event("m.room.topic", "", {{"topic", "x"}})->pdu();
  forged["signatures"] = nlohmann::json::object();  // unsigned: dropped
  const nlohmann::json response = send("t1", txn({early->pdu(), join->pdu()}));
  ASSERT_TRUE(response["pdus"][early->event_id()].contains("error")) << response.dump();
  EXPECT_EQ(response["pdus"][join->event_id()], nlohmann::json::object());
  EXPECT_EQ(metrics_.counter(kPdus, "outcome", "rejected"), 1u);
  EXPECT_EQ(metrics_.counter(kPdus, "outcome", "accepted"), 1u);
  nlohmann::json malformed = remote_event("m.room.topic", "", {{"topic", "y"}})->pdu();
  malformed["depth"] = "deep";  // the pipeline drops it before naming it; the answer names it all the same
  const nlohmann::json dropped = send("t2", txn({forged, malformed}));
  ASSERT_EQ(dropped["pdus"].size(), 2u) << dropped.dump();
  for (const auto& [id, entry] : dropped["pdus"].items()) EXPECT_TRUE(entry.contains("error")) << id;
  EXPECT_EQ(metrics_.counter(kPdus, "outcome", "dropped"), 2u);
}

TEST_F(InboundTest, LimitsOnPdusEdusAndPduSize) {
  std::vector<nlohmann::json> many(51, nlohmann::json::object());
  try {
    send("t1", txn(many));
    FAIL() << "51 PDUs were accepted";
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.http_status(), 400);
  }
  nlohmann::json edus = nlohmann::json::array();
  for (int i = 0; i < 101; ++i) edus.push_back({{"edu_type", "m.typing"}, {"content", nlohmann::json::object()}});
  EXPECT_THROW(send("t2", txn({}, edus)), MatrixError);
  edus.erase(edus.begin());
  EXPECT_EQ(send("t3", txn({}, edus)), (nlohmann::json{{"pdus", nlohmann::json::object()}})) << "100 EDUs are fine, and dropped";
  EXPECT_THROW(send("t4", nlohmann::json{{"origin", kRemote}}), MatrixError) << "pdus is required";

  ASSERT_FALSE(send("t5", txn({rob_join()->pdu()}))["pdus"].begin()->contains("error"));
  const EventPtr big = remote_event("m.room.message", std::nullopt, {{"body", std::string(70000, 'x')}, {"msgtype", "m.text"}});
  const nlohmann::json response = send("t6", txn({big->pdu()}));
  EXPECT_EQ(response["pdus"][big->event_id()]["error"], "the PDU is larger than 65536 bytes");
  EXPECT_FALSE(in_timeline(big->event_id()));
}

TEST_F(InboundTest, PdusOfRoomsThisServerIsNotInAreRefused) {
  const EventPtr join = rob_join();
  nlohmann::json stray = join->pdu();
  stray["room_id"] = "!unknown:elsewhere.test";
  EXPECT_EQ(send("t1", txn({stray})), (nlohmann::json{{"pdus", nlohmann::json::object()}}))
      << "an unknown room has no version to name the event by: ignored";

  run_task(rooms_.set_membership(kAlice, rid(), kAlice, rooms::Membership::leave, std::nullopt, nlohmann::json::object()));
  const EventPtr late_join = rob_join();
  const nlohmann::json response = send("t2", txn({late_join->pdu()}));
  EXPECT_EQ(response["pdus"][late_join->event_id()]["error"], "this server is not in the room");
  EXPECT_FALSE(in_timeline(late_join->event_id()));
}

TEST_F(InboundTest, TheRoomsServerAclRefusesTheOrigin) {
  alice_sends_state("m.room.server_acl", {{"allow", {"*"}}, {"deny", {"REMOTE.test"}}, {"allow_ip_literals", false}});
  const EventPtr join = rob_join();
  const nlohmann::json response = send("t1", txn({join->pdu()}));
  EXPECT_EQ(response["pdus"][join->event_id()]["error"], "the room's server ACL bans remote.test");
  EXPECT_FALSE(in_timeline(join->event_id()));
  EXPECT_THROW(run_task(reader_.state_before(rid(), join->event_id(), kRemote, false)), MatrixError);
}

TEST_F(InboundTest, MissingPrevEventsAreAskedForThroughTheFetcher) {
  ASSERT_EQ(send("t0", txn({rob_join()->pdu()}))["pdus"].begin()->size(), 0u);
  const auto before = run_task(reader_.forward_extremities(rid()));
  const EventPtr first = message("first");            // never sent to us
  const EventPtr second = message("second", {first});  // refers to it
  fetcher_.answer = {first->pdu()};
  const nlohmann::json response = send("t1", txn({second->pdu()}));
  ASSERT_EQ(fetcher_.calls.size(), 1u);
  EXPECT_EQ(fetcher_.calls[0].origin, kRemote);
  EXPECT_EQ(fetcher_.calls[0].room, room_id_);
  EXPECT_EQ(fetcher_.calls[0].earliest, before);
  EXPECT_EQ(fetcher_.calls[0].latest, std::vector<std::string>{second->event_id()});
  EXPECT_EQ(fetcher_.calls[0].limit, TransactionReceiver::kMissingEventsLimit);
  EXPECT_EQ(response["pdus"][second->event_id()], nlohmann::json::object());
  EXPECT_TRUE(in_timeline(first->event_id()));
  EXPECT_TRUE(in_timeline(second->event_id())) << "handed in again once its prev event arrived";
}

TEST_F(InboundTest, WithNothingFetchedTheEventWaitsAsAnOutlier) {
  NullMissingEventsFetcher none;
  TransactionReceiver receiver{db_, rooms_, reader_, none, metrics_, clock_, "hs.test"};
  send(receiver, "t0", txn({rob_join()->pdu()}));
  const EventPtr first = message("first");
  const EventPtr second = message("second", {first});
  const nlohmann::json response = send(receiver, "t1", txn({second->pdu()}));
  EXPECT_EQ(response["pdus"][second->event_id()], nlohmann::json::object());
  EXPECT_FALSE(in_timeline(second->event_id()));
  EXPECT_EQ(metrics_.counter(kPdus, "outcome", "outlier"), 1u);
  // Its prev event in a later transaction: the pipeline names the waiting event, which is handed in again.
  send(receiver, "t2", txn({first->pdu()}));
  EXPECT_TRUE(in_timeline(first->event_id()));
  EXPECT_TRUE(in_timeline(second->event_id()));
}

// Reads for other servers ----------------------------------------------------------------------------------

TEST_F(InboundTest, EventsAreVisibleToServersInTheRoomOrWhenWorldReadable) {
  const std::string create_id = (*room_now()->state.find("m.room.create", ""))->event_id();
  auto event = run_task(reader_.event(create_id, kRemote));
  ASSERT_TRUE(event);
  EXPECT_FALSE(event->visible) << "remote.test has nobody in the room";
  EXPECT_THROW(run_task(reader_.state_before(rid(), create_id, kRemote, false)), MatrixError);

  send("t1", txn({rob_join()->pdu()}));
  event = run_task(reader_.event(create_id, kRemote));
  EXPECT_TRUE(event->visible) << "shared history, remote.test is in the room now";
  EXPECT_FALSE(event->pdu.contains("unsigned"));
  EXPECT_FALSE(run_task(reader_.event(create_id, "other.test"))->visible);

  alice_sends_state("m.room.history_visibility", {{"history_visibility", "world_readable"}});
  alice_sends_state("m.room.topic", {{"topic", "for all to read"}});
  const std::string topic_id = room_now()->extremities.front()->event_id();
  EXPECT_TRUE(run_task(reader_.event(topic_id, "other.test"))->visible) << "world_readable at the event";
  EXPECT_FALSE(run_task(reader_.event(create_id, "other.test"))->visible) << "shared when it was sent";
  EXPECT_FALSE(run_task(reader_.event("$nope", kRemote)));
}

TEST_F(InboundTest, JoinedHistoryIsHiddenFromBeforeTheServersJoin) {
  alice_sends_state("m.room.history_visibility", {{"history_visibility", "joined"}});
  const std::string before_join = room_now()->extremities.front()->event_id();
  const EventPtr join = rob_join();
  send("t1", txn({join->pdu()}));
  alice_sends_state("m.room.topic", {{"topic", "after"}});
  const std::string after_join = room_now()->extremities.front()->event_id();
  EXPECT_FALSE(run_task(reader_.event(before_join, kRemote))->visible);
  EXPECT_TRUE(run_task(reader_.event(join->event_id(), kRemote))->visible) << "its own join";
  EXPECT_TRUE(run_task(reader_.event(after_join, kRemote))->visible);
  try {
    run_task(reader_.auth_chain(rid(), before_join, kRemote));
    FAIL() << "the auth chain of an event remote.test may not see";
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.http_status(), 403);
  }
}

TEST_F(InboundTest, StateBeforeAnEventWithItsAuthChain) {
  const EventPtr join = rob_join();
  send("t1", txn({join->pdu()}));
  alice_sends_state("m.room.topic", {{"topic", "after"}});
  const std::string topic_id = room_now()->extremities.front()->event_id();
  const StateAtEvent state = run_task(reader_.state_before(rid(), topic_id, kRemote, true));
  auto has = [](const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  EXPECT_TRUE(has(state.state_ids, join->event_id()));
  EXPECT_FALSE(has(state.state_ids, topic_id)) << "the state before the event, not after";
  EXPECT_EQ(state.state.size(), state.state_ids.size());
  const std::string create_id = (*room_now()->state.find("m.room.create", ""))->event_id();
  EXPECT_TRUE(has(state.auth_chain_ids, create_id));
  EXPECT_EQ(state.auth_chain.size(), state.auth_chain_ids.size());
  try {
    run_task(reader_.state_before(rid(), "$unknown", kRemote, false));
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.http_status(), 404);
  }
}

TEST_F(InboundTest, MissingEventsAndBackfillWalkTheRoomsGraph) {
  const EventPtr join = rob_join();
  send("t1", txn({join->pdu()}));
  alice_sends_state("m.room.topic", {{"topic", "one"}});
  const std::string one = room_now()->extremities.front()->event_id();
  alice_sends_state("m.room.topic", {{"topic", "two"}});
  const std::string two = room_now()->extremities.front()->event_id();
  const auto missing = run_task(reader_.missing_events(rid(), kRemote, {join->event_id()}, {two}, 10, 0));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0]["content"]["topic"], "one");
  const auto back = run_task(reader_.backfill(rid(), kRemote, {two}, 3));
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0]["content"]["topic"], "two");
  EXPECT_EQ(back[1]["content"]["topic"], "one");
  EXPECT_EQ(back[2]["sender"], kRob);
  EXPECT_THROW(run_task(reader_.backfill(rid(), "other.test", {two}, 3)), MatrixError) << "not in the room";
}

}  // namespace herald::homeserver
