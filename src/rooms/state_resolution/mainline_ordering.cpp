#include "rooms/state_resolution/mainline_ordering.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

namespace herald::rooms::state_resolution {

std::vector<Node> mainline_order(EventGraph& graph, std::vector<Node> events, Node power_levels) {
  constexpr std::size_t kOffMainline = std::numeric_limits<std::size_t>::max();
  // P = P0, P1, ...: each the power levels event in the auth events of the one before.
  std::unordered_map<Node, std::size_t> mainline;
  for (Node p = power_levels; p != kNoNode && !mainline.contains(p); p = graph.power_levels_auth_event(p)) {
    mainline.emplace(p, mainline.size());
  }

  // For a power levels event met on some event's chain: the position its own chain (itself first)
  // leads to. Remembered, since most events cite one of a few power levels events.
  std::unordered_map<Node, std::size_t> known;
  std::vector<Node> path;
  auto position = [&](Node e) {
    path.clear();
    std::size_t found = kOffMainline;
    for (Node p = graph.power_levels_auth_event(e); p != kNoNode; p = graph.power_levels_auth_event(p)) {
      if (auto m = mainline.find(p); m != mainline.end()) {
        found = m->second;
        break;
      }
      if (auto k = known.find(p); k != known.end()) {
        found = k->second;
        break;
      }
      if (std::find(path.begin(), path.end(), p) != path.end()) break;  // a cycle of forged IDs
      path.push_back(p);
    }
    for (const Node p : path) known.emplace(p, found);
    return found;
  };

  struct Keyed {
    std::size_t position;
    Node node;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(events.size());
  for (const Node e : events) keyed.push_back({position(e), e});
  std::sort(keyed.begin(), keyed.end(), [&](const Keyed& x, const Keyed& y) {
    const events::Event& ex = graph.event(x.node);
    const events::Event& ey = graph.event(y.node);
    if (x.position != y.position) return x.position > y.position;
    if (ex.origin_server_ts() != ey.origin_server_ts()) return ex.origin_server_ts() < ey.origin_server_ts();
    return ex.event_id() < ey.event_id();
  });
  for (std::size_t i = 0; i < keyed.size(); ++i) events[i] = keyed[i].node;
  return events;
}

}  // namespace herald::rooms::state_resolution
