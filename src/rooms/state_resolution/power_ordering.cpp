#include "rooms/state_resolution/power_ordering.h"

#include <queue>
#include <unordered_map>

#include "rooms/room_state.h"

namespace herald::rooms::state_resolution {

std::vector<Node> sorted_power_events(EventGraph& graph, const std::vector<Node>& full_conflicted_set) {
  NodeSet in_full;
  for (const Node n : full_conflicted_set) in_full.insert(n);
  NodeSet chosen;
  std::vector<Node> stack;
  for (const Node n : full_conflicted_set) {
    if (is_power_event(graph.event(n)) && chosen.insert(n)) stack.push_back(n);
  }
  std::vector<Node> x;
  while (!stack.empty()) {
    const Node n = stack.back();
    stack.pop_back();
    x.push_back(n);
    for (const Node a : graph.auth_events(n)) {
      if (in_full.contains(a) && chosen.insert(a)) stack.push_back(a);
    }
  }
  return reverse_topological_power_order(graph, x);
}

std::int64_t sender_power(EventGraph& graph, Node n) {
  RoomState state(graph.version());
  for (const Node a : graph.auth_events(n)) state.apply(graph.event_ptr(a));
  return state.user_power(graph.event(n).sender());
}

std::vector<Node> reverse_topological_power_order(EventGraph& graph, const std::vector<Node>& events) {
  std::unordered_map<Node, std::size_t> index;
  index.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) index.emplace(events[i], i);

  std::vector<std::size_t> waiting_on(events.size(), 0);  // auth events inside the set not yet placed
  std::vector<std::vector<std::size_t>> cited_by(events.size());
  std::vector<std::int64_t> power(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    for (const Node a : graph.auth_events(events[i])) {
      if (auto it = index.find(a); it != index.end() && it->second != i) {
        ++waiting_on[i];
        cited_by[it->second].push_back(i);
      }
    }
    power[i] = sender_power(graph, events[i]);
  }

  // "Smallest first" as a priority_queue wants it: the comparator says which comes later.
  auto comes_later = [&](std::size_t x, std::size_t y) {
    const events::Event& ex = graph.event(events[x]);
    const events::Event& ey = graph.event(events[y]);
    if (power[x] != power[y]) return power[x] < power[y];
    if (ex.origin_server_ts() != ey.origin_server_ts()) return ex.origin_server_ts() > ey.origin_server_ts();
    return ex.event_id() > ey.event_id();
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(comes_later)> ready(comes_later);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (waiting_on[i] == 0) ready.push(i);
  }
  std::vector<Node> out;
  out.reserve(events.size());
  while (!ready.empty()) {
    const std::size_t i = ready.top();
    ready.pop();
    out.push_back(events[i]);
    for (const std::size_t citing : cited_by[i]) {
      if (--waiting_on[citing] == 0) ready.push(citing);
    }
  }
  // Events on an auth cycle (impossible with hashed IDs, possible with forged v1-2 IDs) never become
  // ready; they are left out.
  return out;
}

}  // namespace herald::rooms::state_resolution
