#pragma once
// Typed reading of path parameters and common checks shared by the room handlers.
#include <cstdint>
#include <string>

#include "core/ids.h"
#include "core/task.h"
#include "http/request.h"

namespace herald::homeserver {

// A room ID from the path ('!' sigil) or 400 M_INVALID_PARAM.
RoomId room_id_param(const http::Request& req, const char* name = "roomId");
// A user ID from a body or path value, or 400 M_INVALID_PARAM naming the field.
UserId parse_user_id(const std::string& text, const char* field);
// An integer query parameter: absent -> fallback; clamped to [lo, hi]; anything but an optional '-' and
// digits (e.g. "1e3", "10abc") -> 400 M_INVALID_PARAM naming it.
std::int64_t int_query_param(const http::Request& req, const char* name, std::int64_t fallback, std::int64_t lo,
                             std::int64_t hi);

}  // namespace herald::homeserver
