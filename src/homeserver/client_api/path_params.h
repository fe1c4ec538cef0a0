#pragma once
// Typed reading of path parameters and common checks shared by the room handlers.
#include <string>

#include "core/ids.h"
#include "core/task.h"
#include "http/request.h"

namespace herald::homeserver {

class RoomService;
struct Room;

// A room ID from the path ('!' sigil) or 400 M_INVALID_PARAM.
std::string room_id_param(const http::Request& req, const char* name = "roomId");
// A user ID from a body or path value, or 400 M_INVALID_PARAM naming the field.
UserId parse_user_id(const std::string& text, const char* field);
bool is_room_alias(std::string_view s);
// The requester's membership in the room ("leave" when none).
std::string membership_in(const Room& room, const UserId& user);

}  // namespace herald::homeserver
