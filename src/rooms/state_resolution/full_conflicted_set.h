#pragma once
// The full conflicted set of v2 and v2.1 (§12): the conflicted state set, the auth difference, and in
// v2.1 the conflicted state subgraph. Events lookup cannot find are left out.
#include <vector>

#include "rooms/state_resolution/conflicts.h"
#include "rooms/state_resolution/event_graph.h"

namespace herald::rooms::state_resolution {

// Sorted by node number, each once.
std::vector<Node> full_conflicted_set(EventGraph& graph, const Conflicts& conflicts, bool include_conflicted_subgraph);

// Parts, exposed for tests.
// ∪Cᵢ − ∩Cᵢ, where Cᵢ is the full auth chain of state set i. As in Synapse, an event counts as part of
// its own set's chain, so events every set holds (the unconflicted ones) are never in the difference.
std::vector<Node> auth_difference(EventGraph& graph, const Conflicts& conflicts);
// Every event on an auth_events path from one conflicted event to another, the endpoints included.
std::vector<Node> conflicted_subgraph(EventGraph& graph, const std::vector<Node>& conflicted);

}  // namespace herald::rooms::state_resolution
