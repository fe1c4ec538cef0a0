#include "events/room_version.h"
#include "rooms/state_resolution.h"
#include "rooms/state_resolution/event_graph.h"

namespace herald::rooms::state_resolution {

StateMap resolve(const events::RoomVersion& version, const std::vector<StateMap>& state_sets, const EventLookup& lookup) {
  switch (version.state_resolution) {
    case events::StateResolution::v1:
      return resolve_v1(version, state_sets, lookup);
    case events::StateResolution::v2:
    case events::StateResolution::v2_1:
      break;
  }
  return resolve_v2(version, state_sets, lookup, V2Rules::for_version(version));
}

std::unordered_set<std::string> auth_chain(const events::RoomVersion& version, const std::vector<std::string>& event_ids,
                                           const EventLookup& lookup) {
  EventGraph graph(version, lookup);
  NodeSet seen;
  std::vector<Node> stack;
  for (const std::string& id : event_ids) {
    if (const Node n = graph.find(id); n != kNoNode) {
      for (const Node a : graph.auth_events(n)) {
        if (seen.insert(a)) stack.push_back(a);
      }
    }
  }
  std::unordered_set<std::string> out;
  while (!stack.empty()) {
    const Node n = stack.back();
    stack.pop_back();
    out.insert(graph.event(n).event_id());
    for (const Node a : graph.auth_events(n)) {
      if (seen.insert(a)) stack.push_back(a);
    }
  }
  return out;
}

}  // namespace herald::rooms::state_resolution
