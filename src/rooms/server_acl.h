#pragma once
// m.room.server_acl (rooms-and-auth.md; Server-Server API "Server Access Control Lists"): which servers may
// take part in a room. Pure: the caller gives the event's content and the server name.
#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace herald::rooms {

// `*` matches any run of characters (none included), `?` exactly one; case-insensitive (v1.19).
bool server_glob_matches(std::string_view pattern, std::string_view text);

// True when the ACL `content` lets `server_name` (port ignored) take part: an IP literal only with
// allow_ip_literals (default true), then a deny match refuses, then an allow match admits; anything else
// is refused. Entries that are not strings are ignored; a content that is not an object allows everyone.
bool server_acl_allows(const nlohmann::json& content, std::string_view server_name);

}  // namespace herald::rooms
