#pragma once
// Step 1 of v2 (§12): the power events of the full conflicted set, with the parts of their auth chains
// inside it, in reverse topological power ordering.
#include <cstdint>
#include <vector>

#include "rooms/state_resolution/event_graph.h"

namespace herald::rooms::state_resolution {

// The set X of step 1, sorted. Auth chains are followed only through events of the full conflicted
// set, as Synapse and Ruma do.
std::vector<Node> sorted_power_events(EventGraph& graph, const std::vector<Node>& full_conflicted_set);

// Kahn's algorithm over the auth edges among `events`, earliest first, taking at each step the
// candidate whose sender has the highest power (read from the event's own auth events), then the
// lowest origin_server_ts, then the lowest event ID.
std::vector<Node> reverse_topological_power_order(EventGraph& graph, const std::vector<Node>& events);

// The sender's power level as the event's own auth events have it.
std::int64_t sender_power(EventGraph& graph, Node n);

}  // namespace herald::rooms::state_resolution
