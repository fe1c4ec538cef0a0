#pragma once
// The rooms hot paths need, in memory: current state, latest event, joined members. Backed by the
// database; loaded on first use. Only the database writer thread changes a Room, under its mutex.
// Only homeserver/rooms/ takes that mutex: everyone else reads through the const methods below, which
// return copies taken under the shared lock.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <vector>

#include "events/event.h"
#include "rooms/membership.h"
#include "rooms/power_levels.h"
#include "rooms/room_state.h"
#include "storage/event_graph_store.h"

namespace herald::storage::sql {
class Connection;
}

namespace herald::homeserver {

// A room's public face, read under one lock (events are immutable: reading them later is safe).
struct RoomSummary {
  std::size_t joined = 0;
  std::string join_rule;
  events::EventPtr name, topic, canonical_alias, avatar;  // null when the room has none
};

// Who is in a room or invited to it, read under one lock.
struct RoomMembers {
  std::size_t joined = 0;
  std::size_t invited = 0;
  std::vector<std::string> joined_or_invited;  // by user ID
};

// The power levels and one user's level (with creators' implied power), read under one lock.
struct PowerOf {
  rooms::PowerLevels levels;
  std::int64_t user_level = 0;
};

struct Room {
  Room(std::string id, const events::RoomVersion& v) : room_id(std::move(id)), version(&v), state(v) {}
  const std::string room_id;
  const events::RoomVersion* const version;
  mutable std::shared_mutex mutex;  // readers on io threads take it shared; the writer takes it unique
  rooms::RoomState state;  // the resolved state at the forward extremities
  // The events nothing follows yet: the next local event's prev_events (the event pipeline keeps them).
  std::vector<events::EventPtr> extremities;
  std::int64_t state_group = 0;  // the stored state group holding `state`; 0 until first stored
  // state_group's place in its delta chain while .group == state_group (else it is read when needed).
  storage::StateGroupInfo state_group_info;
  std::int64_t position = 0;     // the room's latest stream position this copy reflects
  std::unordered_set<std::string> joined;
  // How many of `joined` each server has: the servers an event goes to, without walking every member.
  std::map<std::string, std::size_t, std::less<>> joined_servers;
  bool is_public = false;
  // Events applied so far (changes under the unique lock): equal counts mean identical state.
  std::uint64_t applied = 0;
  // Writes of this room queued for the writer; while zero, a change is worth building on an io thread.
  std::atomic<int> writes_in_flight{0};

  void apply(const events::EventPtr& event);
  // a state event changes `state`; caller holds the unique lock
  void replace_state(rooms::RoomState resolved);  // after resolution; caller holds the unique lock

  // Copies under the shared lock, for readers.
  rooms::Membership membership_of(const std::string& user_id) const;  // leave when no member event
  PowerOf power_of(const std::string& user_id) const;
  events::EventPtr state_event(const std::string& type, const std::string& state_key = "") const;  // null: absent
  // One entry per key, in order, null where the room has no such state.
  std::vector<events::EventPtr> state_events(const std::vector<rooms::StateKey>& keys) const;
  std::vector<events::EventPtr> joined_member_events() const;
  std::vector<std::string> joined_members() const;
  std::vector<std::string> joined_server_names() const;
  bool server_joined(std::string_view server) const;
  RoomSummary summary() const;
  RoomMembers members() const;
  bool in_public_directory() const;

 private:
  void add_joined(const std::string& user_id);
  void remove_joined(const std::string& user_id);
};

class RoomRegistry {
 public:
  // The room, loading it through `c` when it is not in memory; nullptr when it does not exist.
  std::shared_ptr<Room> get(storage::sql::Connection& c, const std::string& room_id);
  // As get, for a writer: unless `others_wrote` is false (nothing but this process has written since
  // the cache was last right), a cached copy is checked against the room's stored position first and
  // reloaded when another process left it behind.
  std::shared_ptr<Room> get_for_write(storage::sql::Connection& c, const std::string& room_id, bool others_wrote = true);
  std::shared_ptr<Room> cached(const std::string& room_id) const;
  void add(std::shared_ptr<Room> room);
  void evict(const std::string& room_id);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Room>> rooms_;
};

// Rebuilds an event from its stored row.
events::EventPtr load_event(const events::RoomVersion& version, const std::string& event_id, const std::string& room_id,
                            const std::string& pdu_json);

}  // namespace herald::homeserver
