// The two problems state resolution v2.1 (room version 12, MSC4297) was made to fix, each built once
// in room version 11 and once in 12 with the same auth events. Each shows v2 giving the bad answer,
// the one v2.1 change that fixes it, and resolve() choosing per room version.
#include <gtest/gtest.h>

#include <set>

#include "rooms/state_resolution.h"
#include "rooms/state_resolution/conflicts.h"
#include "rooms/state_resolution/full_conflicted_set.h"
#include "rooms/state_resolution/room_dag_for_tests.h"

namespace herald::rooms::state_resolution {
namespace {
using test_support::join_rules;
using test_support::kAlice;
using test_support::kBob;
using test_support::kCharlie;
using test_support::kEvelyn;
using test_support::kZara;
using test_support::member;
using test_support::RoomDag;

constexpr V2Rules kV2{};
constexpr V2Rules kEmptyStartOnly{.start_from_empty_state = true, .include_conflicted_subgraph = false};
constexpr V2Rules kSubgraphOnly{.start_from_empty_state = false, .include_conflicted_subgraph = true};
constexpr V2Rules kV2_1{.start_from_empty_state = true, .include_conflicted_subgraph = true};

// resolve_v2 with the sets in both orders, which must agree.
StateMap resolve_both_orders(const RoomDag& dag, std::vector<StateMap> sets, V2Rules rules) {
  const StateMap forward = resolve_v2(dag.version(), sets, dag.lookup(), rules);
  std::reverse(sets.begin(), sets.end());
  EXPECT_EQ(resolve_v2(dag.version(), sets, dag.lookup(), rules), forward) << "state sets reversed";
  return forward;
}

class StateResV2_1 : public ::testing::TestWithParam<const char*> {
 protected:
  RoomDag dag{GetParam()};
  bool is_v12() const { return dag.version().state_resolution == events::StateResolution::v2_1; }
};

INSTANTIATE_TEST_SUITE_P(RoomVersions, StateResV2_1, ::testing::Values("11", "12"));

// A state reset from the unconflicted state. Alice makes Bob an admin, opens the room, Bob joins,
// Alice makes the room invite-only and leaves. A server that is handed a fork whose state still has
// the old join rules finds them in conflict; v2 replays both join rules events against the
// unconflicted state, where their sender Alice has left, refuses both, and the room ends up with no
// join rules at all. v2.1 replays them from an empty state, checking each against its own auth events
// (where Alice is joined), and keeps the newer rules.
TEST_P(StateResV2_1, StateResetFromUnconflictedState) {
  dag.add(dag.create("CREATE"));
  dag.add_with_auth(member("MA1", kAlice, kAlice, "join"), {});
  dag.add_with_auth(dag.power_levels("P", kAlice, {{kBob, 100}}), {"MA1"});
  dag.add_with_auth(join_rules("JR1", kAlice, "public"), {"MA1", "P"});
  dag.add_with_auth(member("MB", kBob, kBob, "join"), {"P", "JR1"});
  dag.add_with_auth(join_rules("JR2", kAlice, "invite"), {"MA1", "P"});
  dag.add_with_auth(member("MA2", kAlice, kAlice, "leave"), {"P", "MA1"});

  const StateMap correct = dag.state_of({"CREATE", "MA2", "MB", "P", "JR2"});
  const StateMap stale = dag.state_of({"CREATE", "MA2", "MB", "P", "JR1"});
  const StateMap without_join_rules = dag.state_of({"CREATE", "MA2", "MB", "P"});

  EXPECT_EQ(resolve_both_orders(dag, {correct, stale}, kV2), without_join_rules);
  EXPECT_EQ(resolve_both_orders(dag, {correct, stale}, kSubgraphOnly), without_join_rules);
  EXPECT_EQ(resolve_both_orders(dag, {correct, stale}, kEmptyStartOnly), correct);
  EXPECT_EQ(resolve_both_orders(dag, {correct, stale}, kV2_1), correct);
  EXPECT_EQ(resolve(dag.version(), {correct, stale}, dag.lookup()), is_v12() ? correct : without_join_rules);
}

// Builds the graph of the conflicted-subgraph case: Alice promotes Bob (P2), Bob promotes Charlie
// (P3). Evelyn joins under P3 (ME1), then renames herself citing the oldest power levels P1 directly
// (ME2), though her own join, also in ME2's auth events, cites P3. Zara joins under P3.
void build_dodgy_rename(RoomDag& dag) {
  dag.add(dag.create("CREATE"));
  dag.add_with_auth(member("MA", kAlice, kAlice, "join"), {});
  dag.add_with_auth(dag.power_levels("P1", kAlice, {}), {"MA"});
  dag.add_with_auth(join_rules("JR", kAlice, "public"), {"MA", "P1"});
  dag.add_with_auth(member("MB", kBob, kBob, "join"), {"P1", "JR"});
  dag.add_with_auth(member("MC", kCharlie, kCharlie, "join"), {"P1", "JR"});
  dag.add_with_auth(dag.power_levels("P2", kAlice, {{kBob, 50}}), {"MA", "P1"});
  dag.add_with_auth(dag.power_levels("P3", kBob, {{kBob, 50}, {kCharlie, 50}}), {"MB", "P2"});
  dag.add_with_auth(member("ME1", kEvelyn, kEvelyn, "join"), {"P3", "JR"});
  test_support::Draft rename = member("ME2", kEvelyn, kEvelyn, "join");
  rename.content["displayname"] = "Eve";
  dag.add_with_auth(rename, {"P1", "JR", "ME1"});
  dag.add_with_auth(member("MZ", kZara, kZara, "join"), {"P3", "JR"});
}

// The state after Evelyn's rename holds P1 (a server computed it from ME2's direct auth events);
// the state after Zara's join holds P3. Under v2 the full conflicted set holds P1 and P3 but not P2,
// which lies between them: replayed without it, Bob's P3 fails against P1 and the power levels reset
// to P1. The conflicted subgraph brings P2 in, P3 passes, and Evelyn's two member events replay in
// mainline order (ME2, based on P1, before ME1, based on P3).
TEST_P(StateResV2_1, ConflictedSubgraph) {
  build_dodgy_rename(dag);
  const StateMap after_rename = dag.state_of({"CREATE", "MA", "MB", "MC", "ME2", "P1", "JR"});
  const StateMap after_zara = dag.state_of({"CREATE", "MA", "MB", "MC", "MZ", "P3", "JR"});
  const StateMap reset = dag.state_of({"CREATE", "MA", "MB", "MC", "ME2", "MZ", "P1", "JR"});
  const StateMap right = dag.state_of({"CREATE", "MA", "MB", "MC", "ME1", "MZ", "P3", "JR"});

  EXPECT_EQ(resolve_both_orders(dag, {after_rename, after_zara}, kV2), reset);
  EXPECT_EQ(resolve_both_orders(dag, {after_rename, after_zara}, kEmptyStartOnly), reset);
  EXPECT_EQ(resolve_both_orders(dag, {after_rename, after_zara}, kSubgraphOnly), right);
  EXPECT_EQ(resolve_both_orders(dag, {after_rename, after_zara}, kV2_1), right);
  EXPECT_EQ(resolve(dag.version(), {after_rename, after_zara}, dag.lookup()), is_v12() ? right : reset);
}

// The parts of the full conflicted set for the same graph, checked one by one.
TEST_P(StateResV2_1, AuthDifferenceAndConflictedSubgraph) {
  build_dodgy_rename(dag);
  const Conflicts conflicts = separate_v2({dag.state_of({"CREATE", "MA", "MB", "MC", "ME2", "P1", "JR"}),
                                           dag.state_of({"CREATE", "MA", "MB", "MC", "MZ", "P3", "JR"})});
  const EventLookup lookup = dag.lookup();
  EventGraph graph(dag.version(), lookup);
  auto names = [&](const std::vector<Node>& nodes) {
    std::set<std::string> out;
    for (const Node n : nodes) out.insert(graph.event(n).event_id().substr(1));
    return out;
  };
  std::vector<Node> conflicted;
  for (const auto& [key, ids] : conflicts.conflicted) {
    for (const std::string& id : ids) conflicted.push_back(graph.find(id));
  }
  // ME1 is only in the chain of the rename's side; ME2 and MZ each only on their own side.
  EXPECT_EQ(names(auth_difference(graph, conflicts)), (std::set<std::string>{"ME1", "ME2", "MZ"}));
  // Paths ME2 → ME1 → P3 → P2 → P1 and MZ → P3 → P2 → P1; and through Bob's join and the join rules,
  // which every state holds but which also lie between conflicted events: P3 → MB → JR → P1.
  const std::set<std::string> subgraph = {"P1", "P2", "P3", "ME1", "ME2", "MZ", "MB", "JR"};
  EXPECT_EQ(names(conflicted_subgraph(graph, conflicted)), subgraph);
  EXPECT_EQ(names(full_conflicted_set(graph, conflicts, false)), (std::set<std::string>{"P1", "P3", "ME1", "ME2", "MZ"}));
  EXPECT_EQ(names(full_conflicted_set(graph, conflicts, true)), subgraph);
}

}  // namespace
}  // namespace herald::rooms::state_resolution
