#pragma once
// The iterative auth checks of v2 (§12), and the per-event auth state they and v1 check against.
#include <vector>

#include "rooms/room_state.h"
#include "rooms/state_resolution/event_graph.h"
#include "rooms/state_resolution/partial_state.h"

namespace herald::rooms::state_resolution {

enum class OwnAuthEvents { fill_gaps, unused };

// The state to check event n against: for each key its auth needs (§9, and the create event), the
// event `state` holds; with fill_gaps, n's own auth events stand in for keys `state` lacks.
RoomState auth_state_for(EventGraph& graph, Node n, const PartialState& state, OwnAuthEvents own);

// Applies each state event of `order` to `state` if the auth rules allow it there, else skips it.
void iterative_auth_checks(EventGraph& graph, const std::vector<Node>& order, PartialState& state);

}  // namespace herald::rooms::state_resolution
