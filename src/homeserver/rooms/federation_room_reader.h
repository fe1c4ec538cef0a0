#pragma once
// Reads of rooms for other servers (federation.md §5-6): the events, states and auth chains the
// retrieval endpoints answer with, each filtered by what the requesting server may see (history
// visibility for servers, rooms/history_visibility.h), and the room facts /send needs. Reads committed
// data on reader threads and the cached rooms; writes nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::storage {
class Database;
}

namespace herald::homeserver {

class RoomService;

// A room as one server sees it now.
struct RoomAccess {
  std::string room_version;
  bool server_joined = false;                       // one of the server's users is joined now
  std::string history_visibility = "shared";        // the current value
  nlohmann::json server_acl;                        // m.room.server_acl content; null when the room has none
};

// An event as other servers get it (no `unsigned`; no `event_id` from room version 3 on; redacted when
// it was redacted here).
struct FederationEvent {
  std::string event_id;
  std::string room_id;
  nlohmann::json pdu;
  bool visible = false;  // to the server that asked
};

struct StateAtEvent {
  std::vector<std::string> state_ids;       // the state before the event
  std::vector<std::string> auth_chain_ids;  // the auth chain of that state
  std::vector<nlohmann::json> state;        // filled when asked for PDUs
  std::vector<nlohmann::json> auth_chain;
};

class FederationRoomReader {
 public:
  FederationRoomReader(storage::Database& db, RoomService& rooms, std::string server_name)
      : db_(db), rooms_(rooms), server_name_(std::move(server_name)) {}

  // nullopt: this server does not know the room.
  Task<std::optional<RoomAccess>> room_access(RoomId room, std::string server);
  // The room for a room-scoped endpoint asked by `server`: 404 M_NOT_FOUND when unknown; 403 M_FORBIDDEN
  // when the room's server ACL refuses the server, or the server is not in the room and the room is not
  // world_readable.
  Task<RoomAccess> require_access(RoomId room, std::string server);
  // Whether one of this server's users is joined to the room.
  Task<bool> has_local_members(RoomId room);

  // A stored event (not a rejected one), with whether `server` may see it; nullopt when unknown.
  Task<std::optional<FederationEvent>> event(std::string event_id, std::string server);

  // The state before `event_id` and its auth chain. 404 when the event is not in the room or its state
  // is unknown; 403 when `server` may not see the event.
  Task<StateAtEvent> state_before(RoomId room, std::string event_id, std::string server, bool with_pdus);
  // The auth chain of `event_id` (its auth events and theirs). Same errors.
  Task<std::vector<nlohmann::json>> auth_chain(RoomId room, std::string event_id, std::string server);
  // POST /get_missing_events: the visible events between `earliest` and `latest` (rooms/event_walk.h).
  Task<std::vector<nlohmann::json>> missing_events(RoomId room, std::string server, std::vector<std::string> earliest,
                                                   std::vector<std::string> latest, std::size_t limit, std::int64_t min_depth);
  // GET /backfill: the visible events from `from` backwards, at most `limit`.
  Task<std::vector<nlohmann::json>> backfill(RoomId room, std::string server, std::vector<std::string> from,
                                             std::size_t limit);

  // For /send: the room's forward extremities, and stored PDUs as stored (to hand waiting outliers in again).
  Task<std::vector<std::string>> forward_extremities(RoomId room);
  Task<std::vector<nlohmann::json>> stored_pdus(std::vector<std::string> event_ids);
  // The servers with a joined user in the room, this one first when it has one.
  Task<std::vector<std::string>> joined_servers(RoomId room);

 private:
  storage::Database& db_;
  RoomService& rooms_;
  std::string server_name_;
};

}  // namespace herald::homeserver
