#include "rooms/state_resolution/event_graph.h"

#include <algorithm>

#include "events/room_version.h"

namespace herald::rooms::state_resolution {

Node EventGraph::find(const std::string& event_id) {
  auto [it, inserted] = nodes_.try_emplace(event_id, kNoNode);
  if (!inserted) return it->second;
  events::EventPtr event = lookup_(event_id);
  if (!event) return kNoNode;
  it->second = static_cast<Node>(entries_.size());
  entries_.push_back(Entry{std::move(event), {}, false});
  return it->second;
}

const std::vector<Node>& EventGraph::auth_events(Node n) {
  if (entries_[n].auth_loaded) return entries_[n].auth;
  // Resolve into a local first: find() appends entries, and entries_[n] is only touched afterwards.
  const events::EventPtr event = entries_[n].event;
  std::vector<Node> auth;
  auth.reserve(event->auth_event_ids().size() + 1);
  for (const std::string& id : event->auth_event_ids()) {
    const Node a = find(id);
    if (a != kNoNode && std::find(auth.begin(), auth.end(), a) == auth.end()) auth.push_back(a);
  }
  if (version_.room_id_from_create && event->type() != "m.room.create" && event->room_id().size() > 1) {
    const Node create = find("$" + event->room_id().substr(1));
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
