#include "homeserver/rooms/room_registry.h"

#include <nlohmann/json.hpp>
#include <mutex>
#include <stdexcept>

#include "events/event_builder.h"
#include "events/room_version.h"
#include "storage/event_graph_store.h"
#include "storage/room_store.h"

namespace herald::homeserver {

void Room::apply(const events::EventPtr& event) {
  state.apply(event);
  ++applied;
  if (event->type() == "m.room.member" && event->state_key()) {
    if (event->membership() == "join") add_joined(*event->state_key());
    else remove_joined(*event->state_key());
  }
}

namespace {
std::string_view server_of(std::string_view user_id) {
  const auto colon = user_id.find(':');
  return colon == std::string_view::npos ? std::string_view() : user_id.substr(colon + 1);
}
}  // namespace

void Room::add_joined(const std::string& user_id) {
  if (!joined.insert(user_id).second) return;
  const std::string_view server = server_of(user_id);
  if (auto it = joined_servers.find(server); it != joined_servers.end()) ++it->second;
  else joined_servers.emplace(std::string(server), 1);
}

void Room::remove_joined(const std::string& user_id) {
  if (joined.erase(user_id) == 0) return;
  auto it = joined_servers.find(server_of(user_id));
  if (it != joined_servers.end() && --it->second == 0) joined_servers.erase(it);
}

void Room::replace_state(rooms::RoomState resolved) {
  state = std::move(resolved);
  ++applied;
  joined.clear();
  joined_servers.clear();
  for (const auto& [key, event] : state.events()) {
    if (key.first == "m.room.member" && event->membership() == "join") add_joined(key.second);
  }
}

rooms::Membership Room::membership_of(const std::string& user_id) const {
  std::shared_lock lock(mutex);
  // A stored member event always carries one of the five words: the auth rules refused any other.
  return rooms::parse_membership(state.membership(user_id)).value_or(rooms::Membership::leave);
}

PowerOf Room::power_of(const std::string& user_id) const {
  std::shared_lock lock(mutex);
  return {state.power_levels(), state.user_power(user_id)};
}

events::EventPtr Room::state_event(const std::string& type, const std::string& state_key) const {
  std::shared_lock lock(mutex);
  const events::EventPtr* e = state.find(type, state_key);
  return e ? *e : nullptr;
}

std::vector<events::EventPtr> Room::state_events(const std::vector<rooms::StateKey>& keys) const {
  std::vector<events::EventPtr> out;
  out.reserve(keys.size());
  std::shared_lock lock(mutex);
  for (const auto& [type, key] : keys) {
    const events::EventPtr* e = state.find(type, key);
    out.push_back(e ? *e : nullptr);
  }
  return out;
}

std::vector<events::EventPtr> Room::joined_member_events() const {
  std::vector<events::EventPtr> out;
  std::shared_lock lock(mutex);
  for (const auto& [key, e] : state.events()) {
    if (key.first == "m.room.member" && e->membership() == "join") out.push_back(e);
  }
  return out;
}

std::vector<std::string> Room::joined_server_names() const {
  std::shared_lock lock(mutex);
  std::vector<std::string> out;
  for (const auto& [server, count] : joined_servers) out.push_back(server);
  return out;
}

bool Room::server_joined(std::string_view server) const {
  std::shared_lock lock(mutex);
  return joined_servers.find(server) != joined_servers.end();
}

std::vector<std::string> Room::joined_members() const {
  std::shared_lock lock(mutex);
  return {joined.begin(), joined.end()};
}

RoomSummary Room::summary() const {
  std::shared_lock lock(mutex);
  auto find = [&](const char* type) {
    const events::EventPtr* e = state.find(type);
    return e ? *e : nullptr;
  };
  return {joined.size(), state.join_rule(), find("m.room.name"), find("m.room.topic"), find("m.room.canonical_alias"),
          find("m.room.avatar")};
}

RoomMembers Room::members() const {
  RoomMembers out;
  std::shared_lock lock(mutex);
  out.joined = joined.size();
  for (const auto& [key, e] : state.events()) {
    if (key.first != "m.room.member") continue;
    const std::string m = e->membership();
    if (m == "invite") ++out.invited;
    if (m == "invite" || m == "join") out.joined_or_invited.push_back(key.second);
  }
  return out;
}

bool Room::in_public_directory() const {
  std::shared_lock lock(mutex);
  return is_public;
}

events::EventPtr load_event(const events::RoomVersion& version, const std::string& event_id, const std::string& room_id,
                            const std::string& pdu_json) {
  return events::event_from_pdu(version, event_id, room_id, pdu_json);
}

std::shared_ptr<Room> RoomRegistry::get(storage::sql::Connection& c, const std::string& room_id) {
  if (auto r = cached(room_id)) return r;
  const auto stored = storage::room_store::find_room(c, room_id);
  if (!stored) return nullptr;
  const events::RoomVersion* version = events::find_room_version(stored->room_version);
  if (!version) throw std::runtime_error("room " + room_id + " has unknown version " + stored->room_version);
  auto room = std::make_shared<Room>(room_id, *version);
  room->is_public = stored->is_public;
  for (const auto& row : storage::room_store::current_state(c, room_id)) {
    room->apply(load_event(*version, row.event_id, row.room_id, row.pdu));
  }
  for (const auto& id : storage::event_graph_store::forward_extremities(c, room_id)) {
    if (auto pdu = storage::event_graph_store::find_pdu(c, id)) room->extremities.push_back(load_event(*version, id, room_id, *pdu));
  }
  room->state_group = storage::event_graph_store::room_state_group(c, room_id).value_or(0);
  room->position = storage::event_graph_store::room_position(c, room_id);
  std::lock_guard lock(mutex_);
  auto [it, inserted] = rooms_.emplace(room_id, room);
  return it->second;
}

std::shared_ptr<Room> RoomRegistry::get_for_write(storage::sql::Connection& c, const std::string& room_id,
                                                  bool others_wrote) {
  if (auto r = cached(room_id)) {
    if (!others_wrote || r->position == storage::event_graph_store::room_position(c, room_id)) return r;
    evict(room_id);
  }
  return get(c, room_id);
}

std::shared_ptr<Room> RoomRegistry::cached(const std::string& room_id) const {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : it->second;
}

void RoomRegistry::add(std::shared_ptr<Room> room) {
  std::lock_guard lock(mutex_);
  rooms_[room->room_id] = std::move(room);
}

void RoomRegistry::evict(const std::string& room_id) {
  std::lock_guard lock(mutex_);
  rooms_.erase(room_id);
}

std::size_t RoomRegistry::size() const {
  std::lock_guard lock(mutex_);
  return rooms_.size();
}

}  // namespace herald::homeserver
