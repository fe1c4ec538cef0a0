// State resolution of room version 1 (§12; the spec's rooms/v1 page). Known to reset state; kept for
// the rooms that still use it. Where the spec is silent this follows Synapse's state/v1.py.
#include <algorithm>

#include "crypto/sha1.h"
#include "rooms/auth/auth_rules.h"
#include "rooms/state_resolution.h"
#include "rooms/state_resolution/conflicts.h"
#include "rooms/state_resolution/iterative_auth_checks.h"

namespace herald::rooms::state_resolution {
namespace {

struct Candidate {
  std::int64_t depth;
  std::string sha1;
  Node node;
};

// Depth ascending, then sha1(event_id) descending: the order the auth-related keys are replayed in.
std::vector<Candidate> by_depth_then_sha1_descending(EventGraph& graph, const std::vector<Node>& nodes) {
  std::vector<Candidate> out;
  out.reserve(nodes.size());
  for (const Node n : nodes) out.push_back({graph.event(n).depth(), crypto::sha1_hex(graph.event(n).event_id()), n});
  std::sort(out.begin(), out.end(), [](const Candidate& x, const Candidate& y) {
    if (x.depth != y.depth) return x.depth < y.depth;
    return x.sha1 > y.sha1;
  });
  return out;
}

bool allowed(EventGraph& graph, Node n, const PartialState& r, Node also = kNoNode) {
  RoomState state = auth_state_for(graph, n, r, OwnAuthEvents::unused);
  if (also != kNoNode) state.apply(graph.event_ptr(also));
  return !auth::check_event(graph.event(n), state);
}

// Power levels, join rules, members: take the first candidate, then each next one while the auth
// rules allow it on top of R and the one before; stop at the first refused.
Node resolve_auth_key(EventGraph& graph, const std::vector<Node>& nodes, const PartialState& r) {
  const std::vector<Candidate> order = by_depth_then_sha1_descending(graph, nodes);
  Node accepted = order.front().node;
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (!allowed(graph, order[i].node, r, accepted)) break;
    accepted = order[i].node;
  }
  return accepted;
}

// Any other key: the highest depth, then lowest sha1(event_id), that the auth rules allow in R. When
// none is allowed the spec says nothing; Synapse keeps the last one tried, and so do we.
Node resolve_other_key(EventGraph& graph, const std::vector<Node>& nodes, const PartialState& r) {
  std::vector<Candidate> order = by_depth_then_sha1_descending(graph, nodes);
  std::reverse(order.begin(), order.end());
  for (const Candidate& c : order) {
    if (allowed(graph, c.node, r)) return c.node;
  }
  return order.back().node;
}

}  // namespace

StateMap resolve_v1(const events::RoomVersion& version, const std::vector<StateMap>& state_sets,
                    const EventLookup& lookup) {
  if (state_sets.empty()) return {};
  if (state_sets.size() == 1) return state_sets.front();
  Conflicts conflicts = separate_v1(state_sets);
  EventGraph graph(version, lookup);

  // The candidates lookup can find; a key left with one is no longer in conflict.
  struct Conflict {
    StateKey key;
    std::vector<Node> nodes;
  };
  std::vector<Conflict> power_levels, join_rules, members, others;
  for (const auto& [key, ids] : conflicts.conflicted) {
    std::vector<Node> nodes;
    for (const std::string& id : ids) {
      if (const Node n = graph.find(id); n != kNoNode) nodes.push_back(n);
    }
    if (nodes.empty()) continue;
    if (nodes.size() == 1) {
      conflicts.unconflicted.emplace(key, graph.event(nodes.front()).event_id());
      continue;
    }
    auto& bucket = key == StateKey{"m.room.power_levels", ""} ? power_levels
                   : key.first == "m.room.join_rules"        ? join_rules
                   : key.first == "m.room.member"            ? members
                                                             : others;
    bucket.push_back({key, std::move(nodes)});
  }

  PartialState r(&conflicts.unconflicted);
  // Each group is resolved against R as the groups before it left it, then added to R.
  for (const std::vector<Conflict>* group : {&power_levels, &join_rules, &members}) {
    std::vector<std::pair<StateKey, Node>> resolved;
    for (const Conflict& c : *group) resolved.emplace_back(c.key, resolve_auth_key(graph, c.nodes, r));
    for (const auto& [key, n] : resolved) r.set(key, graph.event(n).event_id());
  }
  std::vector<std::pair<StateKey, Node>> resolved;
  for (const Conflict& c : others) resolved.emplace_back(c.key, resolve_other_key(graph, c.nodes, r));
  for (const auto& [key, n] : resolved) r.set(key, graph.event(n).event_id());

  StateMap out = std::move(conflicts.unconflicted);
  for (const auto& [key, id] : r.changes()) out[key] = id;
  return out;
}

}  // namespace herald::rooms::state_resolution
