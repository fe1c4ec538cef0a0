#pragma once
// The authorization rules of every room version (rooms-and-auth.md §10), as pure functions: no I/O,
// no clock. The same code decides local requests and (later) federated events.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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

// The (type, state_key) pairs whose current events become the auth_events of a new event (§9).
std::vector<StateKey> auth_event_keys(const events::RoomVersion& version, const std::string& type,
                                      const std::string* state_key, const std::string& sender,
                                      const nlohmann::json& content);

}  // namespace herald::rooms::auth
