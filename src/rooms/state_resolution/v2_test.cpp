// State resolution v2 scenarios, written from the spec's description of the algorithm (§12) and the
// well-known cases of Synapse's tests/state/test_v2.py and Ruma's state-res tests. Each runs in room
// version 2 ([id, hash] references), 11 (v2) and 12 (v2.1, which must agree on all of them), and each
// resolution is checked with the state sets in both orders.
#include <gtest/gtest.h>

#include "rooms/state_resolution.h"
#include "rooms/state_resolution/event_graph.h"
#include "rooms/state_resolution/power_ordering.h"
#include "rooms/state_resolution/room_dag_for_tests.h"

namespace herald::rooms::state_resolution {
namespace {
using test_support::expect_resolves_to;
using test_support::join_rules;
using test_support::kAlice;
using test_support::kBob;
using test_support::kCharlie;
using test_support::kEvelyn;
using test_support::kZara;
using test_support::member;
using test_support::message;
using test_support::RoomDag;
using test_support::topic;

class StateResV2 : public ::testing::TestWithParam<const char*> {
 protected:
  RoomDag dag = RoomDag::with_members(GetParam());
};

INSTANTIATE_TEST_SUITE_P(RoomVersions, StateResV2, ::testing::Values("2", "11", "12"));

// Alice bans Bob while Bob, on another branch, sends power levels. The ban comes first in the power
// ordering (Alice outranks Bob), so Bob's power levels are then refused: he is banned.
TEST_P(StateResV2, BanRacesPowerLevelChange) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(member("MA", kAlice, kAlice, "join"));
  dag.add(member("MB", kAlice, kBob, "ban"));
  dag.add(dag.power_levels("PB", kBob, {{kBob, 50}}), {"PA"});
  expect_resolves_to(dag, {"MB", "PB"}, dag.expected("START", {"PA", "MA", "MB"}));
}

// Alice makes the room invite-only while Evelyn joins it on another branch. The join rules are a
// power event and resolve first; Evelyn's join, replayed afterwards, fails against them.
TEST_P(StateResV2, JoinRuleChangeRacesJoin) {
  dag.add(join_rules("JR", kAlice, "invite"));
  dag.add(member("ME", kEvelyn, kEvelyn, "join"), {"START"});
  expect_resolves_to(dag, {"JR", "ME"}, dag.expected("START", {"JR"}));
}

// Bob sets a topic after being made a moderator; on another branch Alice then bans him. The ban wins,
// and the topic falls back to the one from before the fork: Bob's topic was sent with power that the
// resolved state no longer gives him.
TEST_P(StateResV2, TopicRacesBan) {
  dag.add(topic("T1", kAlice));
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(topic("T2", kBob));
  dag.add(member("MB", kAlice, kBob, "ban"));
  expect_resolves_to(dag, {"MB", "T1"}, dag.expected("START", {"T1", "MB", "PA"}));
}

// Users join a public room at the same moment: no conflict between them, all are members.
TEST_P(StateResV2, ConcurrentJoins) {
  RoomDag room(GetParam());
  room.add(room.create("CREATE"));
  room.add(member("IMA", kAlice, kAlice, "join"));
  room.add(room.power_levels("IPOWER", kAlice, {}));
  room.add(join_rules("IJR", kAlice, "public"));
  room.add(member("IMB", kBob, kBob, "join"), {"IJR"});
  room.add(member("IMC", kCharlie, kCharlie, "join"), {"IJR"});
  expect_resolves_to(room, {"IMB", "IMC"}, room.expected("IJR", {"IMB", "IMC"}));
  // Three at once: three state sets.
  room.add(member("IMZ", kZara, kZara, "join"), {"IJR"});
  expect_resolves_to(room, {"IMB", "IMZ", "IMC"}, room.expected("IJR", {"IMB", "IMC", "IMZ"}));
}

// The admin demotes a moderator while the moderator kicks someone. Power ordering replays the admin's
// event first; the kick is then checked against the demotion and refused.
TEST_P(StateResV2, AdminDemotesModeratorWhoKicks) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(dag.power_levels("PD", kAlice, {{kBob, 0}}));
  dag.add(member("KC", kBob, kCharlie, "leave"), {"PA"});
  expect_resolves_to(dag, {"PD", "KC"}, dag.expected("PA", {"PD"}));
}

// Without a demotion on the other branch, the moderator's kick stands.
TEST_P(StateResV2, ModeratorKickStandsWhenNothingRevokesIt) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(topic("TA", kAlice));
  dag.add(member("KC", kBob, kCharlie, "leave"), {"PA"});
  expect_resolves_to(dag, {"TA", "KC"}, dag.expected("PA", {"TA", "KC"}));
}

// Power levels changed "off topic": Bob promotes Charlie, who then demotes himself. The branch that
// only has Alice's earlier event adds nothing; the chain's last power levels stand.
TEST_P(StateResV2, OfftopicPowerLevels) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(dag.power_levels("PB", kBob, {{kBob, 50}, {kCharlie, 50}}));
  dag.add(dag.power_levels("PC", kCharlie, {{kBob, 50}, {kCharlie, 0}}));
  expect_resolves_to(dag, {"PC", "PA"}, dag.expected("START", {"PC"}));
}

// Alice demotes Bob (PA2) while Bob, still a moderator on his branch, re-sends power levels and sets
// a topic. Alice's power levels win; Bob's topic fails against them, so Alice's last topic stays.
TEST_P(StateResV2, TopicBasic) {
  dag.add(topic("T1", kAlice));
  dag.add(dag.power_levels("PA1", kAlice, {{kBob, 50}}));
  dag.add(topic("T2", kAlice));
  dag.add(dag.power_levels("PA2", kAlice, {{kBob, 0}}));
  dag.add(dag.power_levels("PB", kBob, {{kBob, 50}}), {"PA1"});
  dag.add(topic("T3", kBob));
  expect_resolves_to(dag, {"PA2", "T3"}, dag.expected("START", {"PA2", "T2"}));
}

// As TopicBasic, then the branches merge (MZ1) and Alice sets a topic after the merge: hers wins.
TEST_P(StateResV2, TopicSetAfterMerge) {
  dag.add(topic("T1", kAlice));
  dag.add(dag.power_levels("PA1", kAlice, {{kBob, 50}}));
  dag.add(topic("T2", kAlice));
  dag.add(dag.power_levels("PA2", kAlice, {{kBob, 0}}));
  dag.add(dag.power_levels("PB", kBob, {{kBob, 50}}), {"PA1"});
  dag.add(topic("T3", kBob));
  dag.add(message("MZ1", kZara), {"PA2", "T3"});
  dag.add(topic("T4", kAlice));
  expect_resolves_to(dag, {"T4", "MZ1"}, dag.expected("START", {"T4", "PA2"}));
}

// Mainline ordering: T3 cites the newest power levels (PA2) while T4, though sent later, cites Bob's
// PB, which branches off the mainline at PA1. Events based on older mainline points replay first, so
// T3 is replayed last and wins. (Ordered by timestamp alone, T4 would.)
TEST_P(StateResV2, MainlineOrdering) {
  dag.add(topic("T1", kAlice));
  dag.add(dag.power_levels("PA1", kAlice, {{kBob, 50}}));
  dag.add(topic("T2", kAlice));
  dag.add(dag.power_levels("PA2", kAlice, {{kBob, 50}}, {{"events", {{"m.room.power_levels", 100}}}}));
  dag.add(topic("T3", kBob));
  dag.add(dag.power_levels("PB", kBob, {{kBob, 50}}), {"PA1"});
  dag.add(topic("T4", kAlice));
  expect_resolves_to(dag, {"T3", "T4"}, dag.expected("START", {"T3", "PA2"}));
}

// Same mainline position: the lower origin_server_ts replays first, so the later topic wins, even
// though its event ID sorts first.
TEST_P(StateResV2, OriginServerTsBreaksTies) {
  dag.add(topic("TX", kAlice), {"START"}, 2000);
  dag.add(topic("TY", kAlice), {"START"}, 1000);
  expect_resolves_to(dag, {"TX", "TY"}, dag.expected("START", {"TX"}));
}

// Same mainline position and timestamp: the lower event ID replays first; the higher one wins.
TEST_P(StateResV2, EventIdBreaksTies) {
  dag.add(topic("TX", kAlice), {"START"}, 1000);
  dag.add(topic("TY", kAlice), {"START"}, 1000);
  expect_resolves_to(dag, {"TX", "TY"}, dag.expected("START", {"TY"}));
}

// In the power ordering the more powerful sender goes first, whatever the timestamps. Both join rules
// are allowed, so the one replayed last, the moderator's, is the result.
TEST_P(StateResV2, PowerOrderingPutsTheMorePowerfulFirst) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}, {kCharlie, 50}}));
  dag.add(join_rules("JB", kBob, "invite"), {"PA"}, 100);
  dag.add(join_rules("JA", kAlice, "knock"), {"PA"}, 200);
  expect_resolves_to(dag, {"JA", "JB"}, dag.expected("PA", {"JB"}));

  EventLookup lookup = dag.lookup();
  EventGraph graph(dag.version(), lookup);
  const std::vector<Node> order =
      reverse_topological_power_order(graph, {graph.find(RoomDag::id("JB")), graph.find(RoomDag::id("JA"))});
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(graph.event(order[0]).event_id(), RoomDag::id("JA"));
  EXPECT_GT(sender_power(graph, order[0]), sender_power(graph, order[1]));
}

// Equal power: origin_server_ts, then event ID, decide the power ordering.
TEST_P(StateResV2, PowerOrderingTiesByTimestampThenEventId) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}, {kCharlie, 50}}));
  dag.add(join_rules("JB", kBob, "invite"), {"PA"}, 200);
  dag.add(join_rules("JC", kCharlie, "knock"), {"PA"}, 100);
  expect_resolves_to(dag, {"JB", "JC"}, dag.expected("PA", {"JB"}));

  dag.add(join_rules("JX", kCharlie, "knock"), {"PA"}, 300);
  dag.add(join_rules("JY", kBob, "invite"), {"PA"}, 300);
  expect_resolves_to(dag, {"JX", "JY"}, dag.expected("PA", {"JY"}));
}

// What all sets agree on is kept as it is, even an event the auth rules would refuse now (Zara's
// topic, sent without the power for it, then Zara banned on one branch).
TEST_P(StateResV2, UnconflictedStatePassesThrough) {
  dag.add(topic("TZ", kZara));
  dag.add(member("BZ", kAlice, kZara, "ban"));
  dag.add({"N1", kAlice, "m.room.name", "", {{"name", "N1"}}}, {"TZ"});
  expect_resolves_to(dag, {"BZ", "N1"}, dag.expected("TZ", {"BZ", "N1"}));
  // One state set, or identical ones: nothing to resolve.
  expect_resolves_to(dag.version(), {dag.state_after("BZ")}, dag.lookup(), dag.state_after("BZ"));
  expect_resolves_to(dag.version(), {dag.state_after("BZ"), dag.state_after("BZ")}, dag.lookup(), dag.state_after("BZ"));
  EXPECT_TRUE(resolve(dag.version(), {}, dag.lookup()).empty());
}

// Conflicted events lookup cannot find take no part; unconflicted entries stay even when missing.
TEST_P(StateResV2, MissingEventsAreSkipped) {
  dag.add(topic("TA", kAlice));
  dag.add({"NA", kAlice, "m.room.name", "", {{"name", "NA"}}});
  dag.add(topic("TB", kAlice), {"START"});
  const EventLookup all = dag.lookup();
  const std::string hidden_topic = RoomDag::id("TB");
  const std::string hidden_member = RoomDag::id("IMZ");
  const EventLookup without = [&](const std::string& event_id) -> events::EventPtr {
    return event_id == hidden_topic || event_id == hidden_member ? nullptr : all(event_id);
  };
  expect_resolves_to(dag.version(), dag.states_after({"NA", "TB"}), without, dag.expected("START", {"TA", "NA"}));
}

TEST_P(StateResV2, AuthChainFollowsAuthEvents) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(topic("TB", kBob));
  const std::unordered_set<std::string> chain = auth_chain(dag.version(), {RoomDag::id("TB")}, dag.lookup());
  const std::unordered_set<std::string> want = {RoomDag::id("CREATE"), RoomDag::id("IMA"), RoomDag::id("IPOWER"),
                                                RoomDag::id("IJR"),    RoomDag::id("IMB"), RoomDag::id("PA")};
  EXPECT_EQ(chain, want);
  EXPECT_TRUE(auth_chain(dag.version(), {"$unknown"}, dag.lookup()).empty());
}

}  // namespace
}  // namespace herald::rooms::state_resolution
