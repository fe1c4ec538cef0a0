#pragma once
// The seam between storing a local event and sending it to the other servers in its room (issue 14
// item 5). RoomService calls enqueue() inside the event's own write job, right after appending it, so
// the event and its outbound rows commit together (an acknowledged event is never lost to a crash), and
// committed() after the commit, when the sender may read them. The federation outbox implements it
// (homeserver/federation/federation_outbox.h); without one, nothing is sent.
#include <string>
#include <vector>

#include "events/event.h"

namespace herald::storage::sql {
class Connection;
}

namespace herald::homeserver {

struct Room;

class LocalEventOutbox {
 public:
  virtual ~LocalEventOutbox() = default;
  // Inside the write job; `room` holds the state after `event`. Returns the destinations queued for.
  virtual std::vector<std::string> enqueue(storage::sql::Connection& c, const Room& room, const events::Event& event) = 0;
  // After the commit, on the caller's thread; `destinations` as enqueue() returned them (one per event).
  virtual void committed(std::vector<std::string> destinations) = 0;
};

}  // namespace herald::homeserver
