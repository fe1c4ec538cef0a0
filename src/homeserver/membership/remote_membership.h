#pragma once
// The pure parts of membership through a resident server (federation.md §7-8, §10): what make_join,
// make_leave and make_knock answer with, the checks send_join and send_leave make on the event they get back, and the
// state a send_join answers with when the joining server asked for it without members.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "homeserver/rooms/federation_room_reader.h"

namespace herald::events {
struct RoomVersion;
}

namespace herald::homeserver::remote_membership {

// The server part of a user ID ("@a:b.example:8448" -> "b.example:8448"); empty when there is none.
std::string_view server_of(std::string_view user_id);

// 400 M_INCOMPATIBLE_ROOM_VERSION (with room_version) unless the joining server supports `room_version`;
// `supported` is the `ver` query parameters, ["1"] when there are none.
void require_supported_version(const std::string& room_version, const std::vector<std::string>& supported);

// 400 M_INCOMPATIBLE_ROOM_VERSION (with room_version) unless rooms of `version` know knocking (v7+):
// make_knock and send_knock on an older room.
void require_knock_support(const events::RoomVersion& version);

// The make_join/make_leave template from an event built here on the room's current state: the PDU
// without what the joining server computes itself (hashes, signatures, and in v1-2 the event ID).
nlohmann::json template_of(const nlohmann::json& built_pdu);

// The checks on a membership event a remote server sends back (send_join/send_leave): an object naming
// `room_id`, of type m.room.member with membership `membership`, whose sender is its state key and a
// user of `origin`, with the event ID `event_id` (v1-2: its event_id field; else its reference hash).
// 400 M_BAD_JSON / M_INVALID_PARAM otherwise.
void check_membership_event(const nlohmann::json& pdu, const events::RoomVersion& version, const std::string& room_id,
                            const std::string& event_id, const std::string& origin, std::string_view membership);

// send_join?omit_members=true: `state` without m.room.member events, except the joiner's and, when the
// room has neither a name nor a canonical alias, the heroes' (up to 5 joined or invited members other
// than the joiner, by user ID) a client needs to name it. The auth chain loses the events kept in state.
// Takes and returns each list with its event IDs alongside (v3+ PDUs do not carry them).
StateAtEvent without_members(const StateAtEvent& full, const std::string& joiner);

}  // namespace herald::homeserver::remote_membership
