#pragma once
// Step 3 of v2 (§12): the mainline ordering of the remaining events, based on the power levels event
// of the partially resolved state.
#include <vector>

#include "rooms/state_resolution/event_graph.h"

namespace herald::rooms::state_resolution {

// Orders `events` by mainline position descending (events based on older power levels first), then
// origin_server_ts, then event ID. power_levels may be kNoNode (no power levels yet): every position
// is then ∞.
std::vector<Node> mainline_order(EventGraph& graph, std::vector<Node> events, Node power_levels);

}  // namespace herald::rooms::state_resolution
