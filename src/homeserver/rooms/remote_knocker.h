#pragma once
// The seam between a local user knocking on a room this server is not in and the federation layer
// (issue 15 item 6, federation.md §10): the client route asks through this interface; the federation
// implementation (homeserver/federation/federation_knocker.h) asks a resident server for a knock
// template, signs it, sends it back and keeps the knock with the room's public face for /sync.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::homeserver {

struct RemoteKnock {
  UserId user;
  RoomId room;
  std::vector<std::string> servers;  // resident servers to ask, in order
  // Member event content this server adds to the template's (displayname, avatar_url, reason).
  nlohmann::json content = nlohmann::json::object();
};

class RemoteKnocker {
 public:
  virtual ~RemoteKnocker() = default;
  // Knocks and returns the knock's event ID. Throws MatrixError as RemoteJoiner::join does: 404 when no
  // server knew the room, a server's refusal passed through (403 M_FORBIDDEN when the room takes no
  // knocks, 400 M_INCOMPATIBLE_ROOM_VERSION before v7...), 502/504 when none could be reached.
  virtual Task<std::string> knock(RemoteKnock knock) = 0;
};

}  // namespace herald::homeserver
