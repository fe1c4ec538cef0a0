// Room version 1's state resolution, from the spec's rooms/v1 description: power levels, then join
// rules, then members are replayed by depth (ascending) and sha1(event_id) (descending), each next
// candidate kept while the auth rules allow it; any other key takes the deepest, then lowest-sha1,
// candidate that passes auth. Each resolution is checked with the state sets in both orders.
#include <gtest/gtest.h>

#include "crypto/sha1.h"
#include "rooms/state_resolution.h"
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

class StateResV1 : public ::testing::Test {
 protected:
  RoomDag dag = RoomDag::with_members("1");
};

TEST_F(StateResV1, RoomVersionOneUsesIt) {
  EXPECT_EQ(dag.version().state_resolution, events::StateResolution::v1);
}

// In v1 a key that only one state holds is no conflict: Evelyn's join survives the concurrent change
// to invite-only (v2 refuses it: see StateResV2.JoinRuleChangeRacesJoin).
TEST_F(StateResV1, AKeyOnlyOneSideHasIsNotAConflict) {
  dag.add(join_rules("JR", kAlice, "invite"));
  dag.add(member("ME", kEvelyn, kEvelyn, "join"), {"START"});
  expect_resolves_to(dag, {"JR", "ME"}, dag.expected("START", {"JR", "ME"}));
}

// Two power levels events, each allowed after the other: the deeper one is replayed last and wins,
// whichever branch it is on and whatever the timestamps.
TEST_F(StateResV1, DeeperPowerLevelsWinWhenBothAreAllowed) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(dag.power_levels("PX", kAlice, {{kBob, 50}, {kCharlie, 10}}), {"PA"}, 5000);
  dag.add(message("M1", kZara), {"PA"});
  dag.add(dag.power_levels("PB", kBob, {{kBob, 50}, {kZara, 20}}), {"M1"}, 100);
  expect_resolves_to(dag, {"PX", "PB"}, dag.expected("PA", {"PB"}));

  dag.add(message("M2", kZara), {"PA"});
  dag.add(dag.power_levels("PY", kAlice, {{kBob, 50}, {kCharlie, 10}}), {"M2"}, 100);
  dag.add(dag.power_levels("PC", kBob, {{kBob, 50}, {kZara, 20}}), {"PA"}, 5000);
  expect_resolves_to(dag, {"PY", "PC"}, dag.expected("PA", {"PY"}));
}

// The replay stops at the first candidate the auth rules refuse: Alice's demotion of Bob comes first
// (lower depth), and Bob's deeper power levels are then not allowed.
TEST_F(StateResV1, ReplayStopsAtTheFirstRefusedCandidate) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(dag.power_levels("PD", kAlice, {{kBob, 0}}), {"PA"});
  dag.add(message("M1", kZara), {"PA"});
  dag.add(dag.power_levels("PB", kBob, {{kBob, 50}, {kZara, 20}}), {"M1"});
  expect_resolves_to(dag, {"PD", "PB"}, dag.expected("PA", {"PD"}));
}

// At equal depth the candidates go by sha1(event_id) descending, so the lowest hash is replayed last.
TEST_F(StateResV1, EqualDepthPowerLevelsGoBySha1Descending) {
  dag.add(dag.power_levels("PA", kAlice, {{kBob, 50}}));
  dag.add(dag.power_levels("PX", kAlice, {{kBob, 50}, {kCharlie, 10}}), {"PA"});
  dag.add(dag.power_levels("PB", kBob, {{kBob, 50}, {kZara, 20}}), {"PA"});
  const bool px_lower = crypto::sha1_hex(RoomDag::id("PX")) < crypto::sha1_hex(RoomDag::id("PB"));
  expect_resolves_to(dag, {"PX", "PB"}, dag.expected("PA", {px_lower ? "PX" : "PB"}));
}

// Other keys: the deepest candidate wins, though older by timestamp.
TEST_F(StateResV1, OtherKeysTakeTheDeepest) {
  dag.add(topic("TA", kAlice), {"START"}, 9000);
  dag.add(message("M1", kZara), {"START"});
  dag.add(topic("TB", kAlice), {"M1"}, 10);
  expect_resolves_to(dag, {"TA", "TB"}, dag.expected("START", {"TB"}));
}

// Other keys at equal depth: the lowest sha1(event_id) wins.
TEST_F(StateResV1, OtherKeysAtEqualDepthTakeTheLowestSha1) {
  dag.add(topic("TX", kAlice), {"START"});
  dag.add(topic("TY", kAlice), {"START"});
  const bool tx_lower = crypto::sha1_hex(RoomDag::id("TX")) < crypto::sha1_hex(RoomDag::id("TY"));
  expect_resolves_to(dag, {"TX", "TY"}, dag.expected("START", {tx_lower ? "TX" : "TY"}));
}

// Members are resolved before other keys: Zara's ban stands, so her deeper topic fails auth and
// Alice's topic is taken.
TEST_F(StateResV1, OtherKeysMustPassAuthAgainstTheResolvedMembers) {
  dag.add(dag.power_levels("PA", kAlice, {{kZara, 50}}));
  dag.add(member("BZ", kAlice, kZara, "ban"));
  dag.add(topic("TA", kAlice));
  dag.add(message("M1", kBob), {"PA"});
  dag.add(message("M2", kBob));
  dag.add(topic("TZ", kZara));
  expect_resolves_to(dag, {"TA", "TZ"}, dag.expected("PA", {"BZ", "TA"}));
}

}  // namespace
}  // namespace herald::rooms::state_resolution
