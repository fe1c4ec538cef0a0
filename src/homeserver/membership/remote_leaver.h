#pragma once
// The seam between a local user leaving a room this server is not in (rejecting an invite from another
// server) and the federation layer: make_leave + send_leave through a resident server. The federation
// implementation is homeserver/federation/federation_leaver.h; RejectionSender calls it and retries.
#include <optional>
#include <string>
#include <vector>

#include "core/task.h"

namespace herald::homeserver {

struct RemoteLeave {
  std::string room_id;
  std::string user_id;               // a local user
  std::vector<std::string> servers;  // resident servers to ask, in order
  std::optional<std::string> reason;  // content.reason of the leave
};

enum class LeaveResult {
  sent,         // a server took the leave
  refused,      // every server refused for good (403, 404, an unusable template): do not retry
  unreachable,  // some server could not be reached or failed for now: try again later
};

class RemoteLeaver {
 public:
  virtual ~RemoteLeaver() = default;
  virtual Task<LeaveResult> send_leave(RemoteLeave leave) = 0;
};

}  // namespace herald::homeserver
