#pragma once
// Stripped state (client-server.md §6, federation.md §9): the room's public face shown to someone invited
// or knocking before they are in the room. The local /sync invite section and the federation invite use
// the same list of event types.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/event.h"

namespace herald::homeserver {

struct Room;

// The state types (state key "") that make up a room's public face, m.room.create first.
const std::vector<std::string>& stripped_state_types();

// invite_room_state for PUT /v2/invite: the public face and the inviter's member event, each stripped
// ({type, state_key, sender, content}), except m.room.create, which goes as its full PDU (current spec
// versions require it so the invitee's server can check the room ID and version). Caller holds the
// room's lock (shared is enough) or is its writer.
nlohmann::json invite_room_state(const Room& room, const std::string& inviter);

// knock_room_state for send_knock's answer: the same public face with the knocker's own member event.
// Same locking as invite_room_state.
nlohmann::json knock_room_state(const Room& room, const std::string& knocker);

}  // namespace herald::homeserver
