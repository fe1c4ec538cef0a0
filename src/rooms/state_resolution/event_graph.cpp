#include "rooms/state_resolution/event_graph.h"

#include <algorithm>

#include "events/room_version.h"

namespace herald::rooms::state_resolution {

Node EventGraph::find(std::string_view event_id) {
  if (auto it = nodes_.find(event_id); it != nodes_.end()) return it->second;
  events::EventPtr event = lookup_(std::string(event_id));
  if (!event) {
    nodes_.emplace(unknown_ids_.emplace_back(event_id), kNoNode);
    return kNoNode;
  }
  const auto n = static_cast<Node>(entries_.size());
  const std::string_view key = event->event_id();
  entries_.push_back(Entry{std::move(event), {}, false});
  // An event whose own ID differs from the one asked for (a faulty lookup) is known under both.
  nodes_.emplace(key, n);
  if (key != event_id) nodes_.emplace(unknown_ids_.emplace_back(event_id), n);
  return n;
}

Node EventGraph::implied_create(const std::string& room_id) {
  if (room_id.size() < 2) return kNoNode;
  if (room_id != create_room_id_) {
    create_room_id_ = room_id;
    std::string create_id = room_id;  // "!x" -> "$x" (not "$" + substr: GCC 12 -O3 warns, -Wrestrict)
    create_id.front() = '$';
    create_node_ = find(create_id);
  }
  return create_node_;
}

const std::vector<Node>& EventGraph::auth_events(Node n) {
  if (entries_[n].auth_loaded) return entries_[n].auth;
  // Resolve into a local first: find() appends entries, and entries_[n] is only touched afterwards.
  const events::EventPtr event = entries_[n].event;
  std::vector<Node> auth;
  auth.reserve(event->auth_event_ids().size() + 1);
  for (const std::string_view id : event->auth_event_ids()) {
    const Node a = find(id);
    if (a != kNoNode && std::find(auth.begin(), auth.end(), a) == auth.end()) auth.push_back(a);
  }
  if (version_.room_id_from_create && event->type() != "m.room.create") {
    const Node create = implied_create(event->room_id());
    if (create != kNoNode && std::find(auth.begin(), auth.end(), create) == auth.end()) auth.push_back(create);
  }
  Entry& entry = entries_[n];
  entry.auth = std::move(auth);
  entry.auth_loaded = true;
  return entry.auth;
}

Node EventGraph::power_levels_auth_event(Node n) {
  for (Node a : auth_events(n)) {
    if (is_power_levels(event(a))) return a;
  }
  return kNoNode;
}

bool is_power_levels(const events::Event& e) {
  return e.type() == "m.room.power_levels" && e.state_key() && e.state_key()->empty();
}

bool is_power_event(const events::Event& e) {
  if (!e.state_key()) return false;
  if (e.type() == "m.room.power_levels" || e.type() == "m.room.join_rules" || e.type() == "m.room.create") {
    return e.state_key()->empty();
  }
  if (e.type() == "m.room.member") {
    return (e.membership() == "leave" || e.membership() == "ban") && e.sender() != *e.state_key();
  }
  return false;
}

}  // namespace herald::rooms::state_resolution
