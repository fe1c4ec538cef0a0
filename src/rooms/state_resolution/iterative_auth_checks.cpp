#include "rooms/state_resolution/iterative_auth_checks.h"

#include "rooms/auth/auth_rules.h"

namespace herald::rooms::state_resolution {

RoomState auth_state_for(EventGraph& graph, Node n, const PartialState& state, OwnAuthEvents own) {
  RoomState out(graph.version());
  if (own == OwnAuthEvents::fill_gaps) {
    for (const Node a : graph.auth_events(n)) out.apply(graph.event_ptr(a));
  }
  const events::Event& e = graph.event(n);
  std::vector<StateKey> keys = auth::auth_event_keys(graph.version(), e.type(), e.state_key(), e.sender(), e.content());
  keys.emplace_back("m.room.create", "");  // v12 lists it nowhere, but the rules still read it
  for (const StateKey& key : keys) {
    const std::string* id = state.find(key);
    if (!id) continue;
    if (const Node held = graph.find(*id); held != kNoNode) out.apply(graph.event_ptr(held));
  }
  return out;
}

void iterative_auth_checks(EventGraph& graph, const std::vector<Node>& order, PartialState& state) {
  for (const Node n : order) {
    const events::Event& e = graph.event(n);
    if (!e.state_key()) continue;
    const RoomState auth_state = auth_state_for(graph, n, state, OwnAuthEvents::fill_gaps);
    if (!auth::check_event(e, auth_state)) state.set(StateKey{e.type(), *e.state_key()}, e.event_id());
  }
}

}  // namespace herald::rooms::state_resolution
