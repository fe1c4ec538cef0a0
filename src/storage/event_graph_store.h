#pragma once
// The event graph in portable SQL (docs/event-pipeline.md): edges, forward extremities, missing prev
// events, state groups and the events kept outside the timeline. Functions run inside a Database job;
// only the event pipeline and the room store call them.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rooms/room_state.h"

namespace herald::storage {

namespace sql {
class Connection;
}

// (type, state_key) -> event ID: a room state by reference.
using StateIds = std::map<rooms::StateKey, std::string>;
// A state the caller holds (its cache): called with a visitor, it visits each key and event ID where
// they are (references valid until the call that took it returns), so a snapshot is written from it
// without copying it first.
using StateVisitor = std::function<void(const rooms::StateKey&, const std::string& event_id)>;
using CachedState = std::function<void(const StateVisitor&)>;

// The state before and after a stored event (absent for events stored before the graph existed).
struct EventStateGroups {
  std::int64_t before = 0;
  std::int64_t after = 0;
};

// A state group's place in its delta chain, which decides when the next group is a snapshot: a writer
// that keeps it for the group it builds on need not read it back.
struct StateGroupInfo {
  std::int64_t group = 0;
  std::int64_t chain_length = 0;  // deltas to walk back to a snapshot
  std::int64_t state_size = 0;
};

enum class OutsideStatus { outlier, rejected, soft_failed };
const char* to_string(OutsideStatus status);

struct OutsideEvent {
  std::string event_id;
  std::string room_id;
  OutsideStatus status = OutsideStatus::outlier;
  std::optional<std::string> reason;
  std::string pdu;
  std::optional<std::int64_t> state_before;
};

namespace event_graph_store {

// A stored event's edges, sorted: read from its PDU, which carries them (migration 0016).
std::vector<std::string> prev_events(sql::Connection& c, const std::string& event_id);
std::vector<std::string> auth_events(sql::Connection& c, const std::string& event_id);

std::vector<std::string> forward_extremities(sql::Connection& c, const std::string& room_id);
// Removes `replaced` from the room's extremities and adds `added` (when given).
void update_forward_extremities(sql::Connection& c, const std::string& room_id, const std::vector<std::string>& replaced,
                                const std::optional<std::string>& added);

void add_missing_prev(sql::Connection& c, const std::string& room_id, const std::string& missing_id,
                      const std::string& referrer_id);
// The events that named `event_id` as a prev event before it was stored; forgets them.
std::vector<std::string> take_referrers(sql::Connection& c, const std::string& event_id);
std::vector<std::string> missing_prev_events(sql::Connection& c, const std::string& room_id);

// New state group IDs come from MAX(state_group) + 1, or, given `next_id` (the caller's count, 0 when
// unknown), from that: a writer that alone adds state groups reads the maximum once.
//
// A new state group: `prev_group`'s state with one more event (type, state_key -> event_id). Past a
// bounded chain of deltas it writes a full snapshot instead, of `prev_state` when given (the caller's
// copy of prev_group's state), else of prev_group's state read back (state_of_group).
std::int64_t add_state_delta(sql::Connection& c, const std::string& room_id, std::int64_t prev_group,
                             const rooms::StateKey& key, const std::string& event_id, bool adds_key,
                             const CachedState& prev_state = {});
// The same with prev_group's chain place known (`prev`; nullptr: read it); returns the new group's.
StateGroupInfo add_state_delta(sql::Connection& c, const std::string& room_id, std::int64_t prev_group,
                               const StateGroupInfo* prev, const rooms::StateKey& key, const std::string& event_id,
                               bool adds_key, const CachedState& prev_state, std::int64_t* next_id);
// A new state group holding exactly `state`: a delta on `prev_group` when that is short, else a snapshot.
std::int64_t add_state_group(sql::Connection& c, const std::string& room_id, std::optional<std::int64_t> prev_group,
                             const StateIds& state, std::int64_t* next_id = nullptr);
std::optional<StateGroupInfo> state_group_info(sql::Connection& c, std::int64_t group);
StateIds state_of_group(sql::Connection& c, std::int64_t group);

std::optional<std::int64_t> room_state_group(sql::Connection& c, const std::string& room_id);
void set_room_state_group(sql::Connection& c, const std::string& room_id, std::int64_t group);

void set_event_state_groups(sql::Connection& c, const std::string& event_id, const EventStateGroups& groups);
std::optional<EventStateGroups> event_state_groups(sql::Connection& c, const std::string& event_id);

void insert_outside(sql::Connection& c, const OutsideEvent& event, std::int64_t now_ms);
std::optional<OutsideEvent> find_outside(sql::Connection& c, const std::string& event_id);
void delete_outside(sql::Connection& c, const std::string& event_id);

// The PDU text of a stored event, in the timeline or outside it (not rejected ones).
std::optional<std::string> find_pdu(sql::Connection& c, const std::string& event_id);
// True when the event is stored in the timeline or outside it (rejected included).
bool is_known(sql::Connection& c, const std::string& event_id);
// The room's latest position in the stream: what a cached copy of the room was built up to.
std::int64_t room_position(sql::Connection& c, const std::string& room_id);

}  // namespace event_graph_store
}  // namespace herald::storage
