// State resolution v2 (room versions 2-11) and v2.1 (room version 12), §12.
#include "events/room_version.h"
#include "rooms/state_resolution.h"
#include "rooms/state_resolution/conflicts.h"
#include "rooms/state_resolution/full_conflicted_set.h"
#include "rooms/state_resolution/iterative_auth_checks.h"
#include "rooms/state_resolution/mainline_ordering.h"
#include "rooms/state_resolution/power_ordering.h"

namespace herald::rooms::state_resolution {

V2Rules V2Rules::for_version(const events::RoomVersion& version) {
  const bool v2_1 = version.state_resolution == events::StateResolution::v2_1;
  return V2Rules{.start_from_empty_state = v2_1, .include_conflicted_subgraph = v2_1};
}

StateMap resolve_v2(const events::RoomVersion& version, const std::vector<StateMap>& state_sets,
                    const EventLookup& lookup, V2Rules rules) {
  if (state_sets.empty()) return {};
  Conflicts conflicts = separate_v2(state_sets);
  if (conflicts.conflicted.empty()) return std::move(conflicts.unconflicted);

  EventGraph graph(version, lookup);
  const std::vector<Node> full = full_conflicted_set(graph, conflicts, rules.include_conflicted_subgraph);

  // Steps 1-2: the power events first, in an order that lets the more powerful act first.
  const std::vector<Node> power_events = sorted_power_events(graph, full);
  PartialState partial(rules.start_from_empty_state ? nullptr : &conflicts.unconflicted);
  iterative_auth_checks(graph, power_events, partial);

  // Steps 3-4: everything else, ordered along the mainline of the power levels just resolved.
  NodeSet picked;
  for (const Node n : power_events) picked.insert(n);
  std::vector<Node> others;
  for (const Node n : full) {
    if (!picked.contains(n)) others.push_back(n);
  }
  Node power_levels = kNoNode;
  if (const std::string* id = partial.find(StateKey{"m.room.power_levels", ""})) power_levels = graph.find(*id);
  iterative_auth_checks(graph, mainline_order(graph, std::move(others), power_levels), partial);

  // Step 5: the unconflicted state has the last word (emplace leaves its entries as they are).
  StateMap out = std::move(conflicts.unconflicted);
  for (const auto& [key, id] : partial.changes()) out.emplace(key, id);
  return out;
}

}  // namespace herald::rooms::state_resolution
