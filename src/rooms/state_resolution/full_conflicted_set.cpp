#include "rooms/state_resolution/full_conflicted_set.h"

#include <algorithm>

namespace herald::rooms::state_resolution {
namespace {

template <class T>
void grow_to(std::vector<T>& v, std::size_t size) {
  if (v.size() < size) v.resize(size + size / 2, T{});
}

std::vector<Node> conflicted_nodes(EventGraph& graph, const Conflicts& conflicts) {
  std::vector<Node> out;
  for (const auto& [key, ids] : conflicts.conflicted) {
    for (const std::string& id : ids) {
      if (const Node n = graph.find(id); n != kNoNode) out.push_back(n);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<Node> auth_difference(EventGraph& graph, const Conflicts& conflicts) {
  const std::size_t set_count = conflicts.conflicted_by_set.size();
  if (set_count < 2) return {};
  // The unconflicted events and everything in their auth chains are in every set's chain. Mark them
  // once; then each set's walk starts from its conflicted events and stops at the marks, so the
  // per-set walks stay as small as the fork, not the room.
  NodeSet common;
  std::vector<Node> stack;
  for (const auto& [key, id] : conflicts.unconflicted) {
    if (const Node n = graph.find(id); n != kNoNode && common.insert(n)) stack.push_back(n);
  }
  while (!stack.empty()) {
    const Node n = stack.back();
    stack.pop_back();
    for (const Node a : graph.auth_events(n)) {
      if (common.insert(a)) stack.push_back(a);
    }
  }

  std::vector<std::uint32_t> last_set;  // per node: 1 + the last set whose walk reached it
  std::vector<std::uint32_t> sets_reaching;
  std::vector<Node> reached;
  for (std::size_t i = 0; i < set_count; ++i) {
    const auto stamp = static_cast<std::uint32_t>(i + 1);
    for (const std::string& id : conflicts.conflicted_by_set[i]) {
      if (const Node n = graph.find(id); n != kNoNode && !common.contains(n)) stack.push_back(n);
    }
    while (!stack.empty()) {
      const Node n = stack.back();
      stack.pop_back();
      grow_to(last_set, graph.size());
      grow_to(sets_reaching, graph.size());
      if (last_set[n] == stamp) continue;
      last_set[n] = stamp;
      if (sets_reaching[n]++ == 0) reached.push_back(n);
      for (const Node a : graph.auth_events(n)) {
        if (!common.contains(a)) stack.push_back(a);
      }
    }
  }
  std::vector<Node> out;
  for (const Node n : reached) {
    if (sets_reaching[n] < set_count) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Node> conflicted_subgraph(EventGraph& graph, const std::vector<Node>& conflicted) {
  // A depth-first walk down the auth chains of the conflicted events, deciding on the way back up
  // whether each event reaches a conflicted one. Every event the walk meets is reachable from a
  // conflicted event, so those that also reach one lie on a path between two.
  enum Mark : std::uint8_t { unseen, open, misses, reaches };
  NodeSet is_conflicted;
  for (const Node c : conflicted) is_conflicted.insert(c);
  std::vector<std::uint8_t> mark;
  struct Frame {
    Node node;
    std::size_t next_auth;
  };
  std::vector<Frame> stack;
  std::vector<Node> out;
  for (const Node c : conflicted) {
    grow_to(mark, graph.size());
    if (mark[c] != unseen) continue;
    mark[c] = open;
    stack.push_back({c, 0});
    while (!stack.empty()) {
      const Node n = stack.back().node;
      const std::vector<Node>& auth = graph.auth_events(n);
      grow_to(mark, graph.size());
      if (stack.back().next_auth < auth.size()) {
        const Node a = auth[stack.back().next_auth++];
        if (mark[a] == unseen) {
          mark[a] = open;
          stack.push_back({a, 0});
        }
        continue;
      }
      const bool on_path = is_conflicted.contains(n) ||
                           std::any_of(auth.begin(), auth.end(), [&](Node a) { return mark[a] == reaches; });
      mark[n] = on_path ? reaches : misses;
      if (on_path) out.push_back(n);
      stack.pop_back();
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Node> full_conflicted_set(EventGraph& graph, const Conflicts& conflicts, bool include_conflicted_subgraph) {
  std::vector<Node> out = conflicted_nodes(graph, conflicts);
  const std::vector<Node> difference = auth_difference(graph, conflicts);
  out.insert(out.end(), difference.begin(), difference.end());
  if (include_conflicted_subgraph) {
    const std::vector<Node> subgraph = conflicted_subgraph(graph, conflicted_nodes(graph, conflicts));
    out.insert(out.end(), subgraph.begin(), subgraph.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace herald::rooms::state_resolution
