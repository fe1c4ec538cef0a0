#pragma once
// State resolution (rooms-and-auth.md §12): given the room states after each of an event's
// prev_events, the state before it. Pure functions, like the auth rules: events come from `lookup`,
// there is no I/O and no clock. The algorithms live in rooms/state_resolution/.
#include <functional>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "events/event.h"
#include "rooms/room_state.h"

namespace herald::events {
struct RoomVersion;
}

namespace herald::rooms::state_resolution {

using StateMap = std::map<StateKey, std::string>;  // (type, state_key) -> event_id
// Returns the event, or nullptr when unknown. Called for state events in the sets and their auth chains.
using EventLookup = std::function<events::EventPtr(const std::string& event_id)>;

// Resolves the given state sets per the room version's algorithm (v1, v2 or v2.1). Events that lookup
// cannot find take no part (as the spec has it for missing events); an unconflicted entry is kept
// whether or not its event is found.
StateMap resolve(const events::RoomVersion& version, const std::vector<StateMap>& state_sets, const EventLookup& lookup);

// Room version 1's algorithm.
StateMap resolve_v1(const events::RoomVersion& version, const std::vector<StateMap>& state_sets,
                    const EventLookup& lookup);

// The two ways v2.1 (room version 12, MSC4297) differs from v2. resolve() picks them from the room
// version; they are separate switches so tests can show what each one fixes.
struct V2Rules {
  bool start_from_empty_state = false;      // step 2 starts empty, not from the unconflicted state
  bool include_conflicted_subgraph = false;  // events on auth paths between conflicted events join in

  static V2Rules for_version(const events::RoomVersion& version);
};
StateMap resolve_v2(const events::RoomVersion& version, const std::vector<StateMap>& state_sets,
                    const EventLookup& lookup, V2Rules rules);

// The auth chain of the given events: every event reachable through auth_events (in v12 also the
// create event each event's room ID implies), the given events themselves only when so reachable.
// Events lookup cannot find are left out and not walked further.
std::unordered_set<std::string> auth_chain(const events::RoomVersion& version, const std::vector<std::string>& event_ids,
                                           const EventLookup& lookup);

}  // namespace herald::rooms::state_resolution
