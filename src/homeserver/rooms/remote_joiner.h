#pragma once
// The seam between a local user joining a room this server is not in and the federation layer (issue
// 15, federation.md §7): the client routes ask through this interface; the federation implementation
// (homeserver/federation/federation_joiner.h) asks a resident server for a join template, signs it,
// sends it back, checks the room state it gets and hands it to RoomService::join_from_snapshot.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::homeserver {

struct RemoteJoin {
  UserId user;
  RoomId room;
  std::vector<std::string> servers;  // resident servers to ask, in order
  // Member event content this server adds to the template's (displayname, avatar_url, reason...).
  nlohmann::json content = nlohmann::json::object();
};

class RemoteJoiner {
 public:
  virtual ~RemoteJoiner() = default;
  // Joins and returns the join's event ID. Throws MatrixError: 404 M_NOT_FOUND when no server knew the
  // room, a server's refusal passed through (403 M_FORBIDDEN, 400 M_INCOMPATIBLE_ROOM_VERSION...), 502
  // M_UNKNOWN when none could be reached or answered something unusable.
  virtual Task<std::string> join(RemoteJoin join) = 0;
};

}  // namespace herald::homeserver
