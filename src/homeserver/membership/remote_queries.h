#pragma once
// The seam between client routes (and joins by alias) and the federation queries they need about another
// server's users and aliases (federation.md §12, the asking half): GET /_matrix/federation/v1/query/profile
// and /query/directory. The federation implementation is homeserver/federation/federation_queries.h.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::homeserver {

// Where a room alias points: the room, and servers in it to join through (in the order the alias's
// server gave them; valid server names, no duplicates, never empty).
struct ResolvedAlias {
  RoomId room_id;
  std::vector<std::string> servers;
};

class RemoteQueries {
 public:
  virtual ~RemoteQueries() = default;

  // The profile of a user of another server: an object whose displayname and avatar_url are strings when
  // present (keys the server sent with another type are dropped; other keys, m.tz say, kept). With
  // `field`, only that field is asked for. nullopt when the server says there is no such user or field
  // (404). Throws MatrixError: 403 M_FORBIDDEN when the server refuses to say, 502 M_UNKNOWN when it
  // cannot be reached or answers something unusable, 504 M_UNKNOWN when it does not answer in time.
  virtual Task<std::optional<nlohmann::json>> profile(UserId user, std::optional<std::string> field) = 0;

  // "#name:server" of another server, asked of that server. nullopt when it says there is no such alias
  // (404). Throws MatrixError as profile() does.
  virtual Task<std::optional<ResolvedAlias>> resolve_alias(std::string alias) = 0;
};

}  // namespace herald::homeserver
