#pragma once
// The only code that adds an event to a room (docs/event-pipeline.md), for an event built here and for
// one received from elsewhere alike. It runs inside a database write job on a RoomWriteTransaction
// (the room is locked for the job) and changes the cached Room under its unique lock; the caller wakes
// /sync (and, later, the federation sender) after the commit. No network I/O inside.
//
// Received events go through the spec's checks on receipt of a PDU, in order: format and size ->
// signatures -> content hash (a mismatch stores the redacted event) -> auth against the event's own
// auth_events -> auth against the state before it (else rejected) -> auth against the current state
// (else soft-failed: stored, not shown, not an extremity).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/event.h"
#include "homeserver/rooms/pdu_checks.h"
#include "homeserver/rooms/room_registry.h"
#include "storage/room_store.h"

namespace herald::storage {
class RoomWriteTransaction;
}
namespace herald::federation {
class ServerKeyRing;
}

namespace herald::homeserver {

struct RoomSnapshot;  // room_snapshot.h

// A local event ready to store: built on the room's current state, with prev_events = the room's
// forward extremities (at most kMaxPrevEvents) and auth_events from the state before it.
struct LocalEvent {
  events::EventPtr event;
  storage::NewEventRow row;  // stream assigned on append
};

enum class Outcome { accepted, soft_failed, rejected, outlier, duplicate, dropped };
const char* to_string(Outcome outcome);

struct Received {
  Outcome outcome = Outcome::dropped;
  std::string event_id;         // empty when the PDU was too malformed to name one
  std::string reason;           // why it was rejected, soft-failed, dropped or kept as an outlier
  std::int64_t stream = 0;      // accepted: its stream position
  events::EventPtr event;       // as stored (redacted when its content hash did not match)
  bool redacted = false;        // the content hash did not match
  std::vector<std::string> missing_prev_events;  // outlier: what the transport should fetch
  std::vector<std::string> unblocked;            // accepted: outliers that were waiting for this event
};

class EventPipeline {
 public:
  // The spec's limits on a PDU (federation.md §4).
  static constexpr std::size_t kMaxPduBytes = pdu_checks::kMaxPduBytes;
  static constexpr std::size_t kMaxPrevEvents = pdu_checks::kMaxPrevEvents;
  static constexpr std::size_t kMaxAuthEvents = pdu_checks::kMaxAuthEvents;
  // A local event refers to at most this many forward extremities (as Synapse).
  static constexpr std::size_t kMaxLocalPrevEvents = 10;

  explicit EventPipeline(const federation::ServerKeyRing& keys) : keys_(keys) {}

  // The prev_events of the room's next local event and its depth.
  static std::vector<events::EventPtr> local_prev_events(const Room& room);
  static std::int64_t next_depth(const std::vector<events::EventPtr>& prev_events);
  // The timeline row of an event, with what it replaced in `before` (unsigned.prev_content and friends).
  static storage::NewEventRow timeline_row(const events::Event& event, const rooms::RoomState& before);

  // Stores a local event and makes it the room's only forward extremity among those it refers to.
  // Returns its stream position.
  std::int64_t append_local(storage::RoomWriteTransaction& tx, Room& room, LocalEvent local);

  // A room joined through another server (federation.md §7): the snapshot's state becomes the room's
  // state (stored outside the timeline), the rest of its auth chain is kept outside the room, and
  // `join`, checked against that state by the caller, follows as the room's first timeline event and
  // only forward extremity. Whatever the room held before (a room this server left) is replaced.
  // Returns the join's stream position.
  std::int64_t append_joined_snapshot(storage::RoomWriteTransaction& tx, Room& room, const RoomSnapshot& snapshot,
                                      const LocalEvent& join, std::int64_t now_ms);

  // The checks on receipt, then stores the event as their outcome says. A refusal is an outcome, not an
  // exception; only storage failures throw.
  Received receive(storage::RoomWriteTransaction& tx, Room& room, const nlohmann::json& pdu, std::int64_t now_ms);

 private:
  const federation::ServerKeyRing& keys_;
};

}  // namespace herald::homeserver
