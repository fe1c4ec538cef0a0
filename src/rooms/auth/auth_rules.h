#pragma once
// The authorization rules of every room version (rooms-and-auth.md §10), as pure functions: no I/O,
// no clock. The same code decides local requests and (later) federated events.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "events/event.h"
#include "rooms/room_state.h"

namespace herald::events {
class Event;
struct RoomVersion;
}  // namespace herald::events

namespace herald::rooms::auth {

struct Denial {
  std::string reason;  // a sentence a person understands; becomes the M_FORBIDDEN `error`
};

// Checks `event` against `state`, the room state before the event (for a local event, the current state).
std::optional<Denial> check_event(const events::Event& event, const RoomState& state);

// Rule 3, for events received from elsewhere: `auth_events` (the events the PDU lists, already fetched)
// must not repeat a (type, state_key), must all be of the kinds §9 selects for this event, must come from
// the same room, and (v1-11) must include the m.room.create event.
std::optional<Denial> check_auth_events(const events::Event& event, const std::vector<events::EventPtr>& auth_events,
                                        const events::RoomVersion& version);
// The state made of an event's auth events, to check the event against them (and the v12 create event,
// which is implied by the room ID rather than listed).
RoomState auth_state(const events::RoomVersion& version, const std::vector<events::EventPtr>& auth_events,
                     const events::EventPtr& create_event);

// The (type, state_key) pairs whose current events become the auth_events of a new event (§9).
std::vector<StateKey> auth_event_keys(const events::RoomVersion& version, const std::string& type,
                                      const std::string* state_key, const std::string& sender,
                                      const nlohmann::json& content);

}  // namespace herald::rooms::auth
