#pragma once
// The events one resolution touches, each looked up once and given a number, with its auth events
// as numbers: the walks over auth chains then cost a vector index per step, not a string hash.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rooms/state_resolution.h"

namespace herald::rooms::state_resolution {

using Node = std::uint32_t;
inline constexpr Node kNoNode = UINT32_MAX;

class EventGraph {
 public:
  EventGraph(const events::RoomVersion& version, const EventLookup& lookup) : version_(version), lookup_(lookup) {}
  EventGraph(const EventGraph&) = delete;
  EventGraph& operator=(const EventGraph&) = delete;

  const events::RoomVersion& version() const { return version_; }
  // The event's node, looking it up on first use; kNoNode when lookup cannot find it (asked once).
  Node find(std::string_view event_id);
  const events::Event& event(Node n) const { return *entries_[n].event; }
  const events::EventPtr& event_ptr(Node n) const { return entries_[n].event; }
  // The auth events lookup could find, plus in v12 the create event the room ID implies. The reference
  // stays valid for the graph's life (entries live in a deque and are filled once).
  const std::vector<Node>& auth_events(Node n);
  // The m.room.power_levels event among n's auth events, or kNoNode.
  Node power_levels_auth_event(Node n);
  // How many nodes exist so far (node numbers are below this).
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    events::EventPtr event;
    std::vector<Node> auth;
    bool auth_loaded = false;
  };
  Node implied_create(const std::string& room_id);

  const events::RoomVersion& version_;
  const EventLookup& lookup_;
  // Keys view the event's own ID, or for IDs lookup could not find, a copy kept in unknown_ids_: no
  // string is allocated per event found.
  std::unordered_map<std::string_view, Node> nodes_;
  std::deque<Entry> entries_;
  std::deque<std::string> unknown_ids_;
  // v12: the last room ID's create event, since nearly every event asks for the same one.
  std::string create_room_id_;
  Node create_node_ = kNoNode;
};

// A set of nodes as a flag per node, growing as the graph does.
class NodeSet {
 public:
  bool contains(Node n) const { return n < flags_.size() && flags_[n]; }
  // True when n was not in the set before.
  bool insert(Node n) {
    if (n >= flags_.size()) flags_.resize(n + 1 + n / 2, 0);
    if (flags_[n]) return false;
    flags_[n] = 1;
    return true;
  }

 private:
  std::vector<std::uint8_t> flags_;
};

bool is_power_levels(const events::Event& e);
// A power event (§12): power levels, join rules, or someone else's kick or ban. The create event is
// one too, as Synapse and Ruma count it (it can only be conflicted in a broken room).
bool is_power_event(const events::Event& e);

}  // namespace herald::rooms::state_resolution
