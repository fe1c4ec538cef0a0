#pragma once
// The seam between a local user inviting a user of another server and the federation layer (issue 15,
// the sending half): RoomService builds and auth-checks the invite, asks the invitee's server to
// countersign it through this interface (outside any database job), and only then commits the
// countersigned event. The federation implementation is homeserver/federation/federation_inviter.h;
// without one, an invite of a remote user is committed directly (tests, tools).
#include <string>

#include <nlohmann/json.hpp>

#include "core/task.h"

namespace herald::homeserver {

struct RemoteInvite {
  std::string destination;   // the invitee's server
  std::string room_version;
  std::string room_id;
  std::string event_id;
  nlohmann::json pdu;                // the signed invite, federation form
  nlohmann::json invite_room_state;  // stripped_state.h
};

class RemoteInviter {
 public:
  virtual ~RemoteInviter() = default;
  // The invite's PDU carrying the invitee server's signature as well (checked: same event, valid
  // signature). Throws MatrixError: the remote's refusal passed through (403 M_FORBIDDEN, 400
  // M_INCOMPATIBLE_ROOM_VERSION...), 502/504 M_UNKNOWN naming the server when it cannot be reached or
  // answers something unusable.
  virtual Task<nlohmann::json> send_invite(RemoteInvite invite) = 0;
};

}  // namespace herald::homeserver
