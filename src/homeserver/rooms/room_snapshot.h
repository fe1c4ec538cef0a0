#pragma once
// A room's state as another server hands it over when one of our users joins a room this server is not
// in (send_join's `state` and `auth_chain`, federation.md §7): every event checked as on receipt —
// format, signatures, content hash (a mismatch keeps the redacted form), and authorisation against its
// own auth events, in auth-chain order — before any of it is trusted as the room's state. Pure: the
// signing keys must already be in `keys` (the caller fetches them first); no storage, no network.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/event.h"

namespace herald::events {
struct RoomVersion;
}
namespace herald::federation {
class ServerKeyRing;
}

namespace herald::homeserver {

struct RoomSnapshot {
  events::EventPtr create;
  // The state, one event per (type, state_key), each authorised by events of the snapshot.
  std::vector<events::EventPtr> state;
  // The rest of the auth chain those rest on.
  std::vector<events::EventPtr> auth_chain;
  // "event ID: why" for each event left out (unverifiable, unauthorised, or resting on such an event).
  std::vector<std::string> refused;
};

// Throws std::runtime_error saying why when the snapshot cannot be the room's state: no valid create
// event of `room_id` in it, a create event of another room version, two state events for one key, or
// more than `max_events` events.
RoomSnapshot check_room_snapshot(const events::RoomVersion& version, const std::string& room_id, const nlohmann::json& state,
                                 const nlohmann::json& auth_chain, const federation::ServerKeyRing& keys,
                                 std::size_t max_events = 200000);

// A signing key check_room_snapshot will ask `keys` for: key `key_id` of `server`, valid at `at_ms` (the
// newest origin_server_ts of an event it signed; 0 where the room version ignores key validity).
struct SnapshotKey {
  std::string server;
  std::string key_id;
  std::int64_t at_ms = 0;
};
// The keys the snapshot's required signatures name, so a caller can fetch the unknown ones first.
std::vector<SnapshotKey> snapshot_keys(const events::RoomVersion& version, const nlohmann::json& state,
                                       const nlohmann::json& auth_chain);

}  // namespace herald::homeserver
