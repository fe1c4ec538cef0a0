#pragma once
// What the event pipeline needs of storage to add events to a room (docs/event-pipeline.md), as an
// interface a second driver can fill: SQLite runs it inside the single writer's group commit (the
// writer is the room lock, positions come from the stream); PostgreSQL will take a row lock on the
// room and positions from a sequence. Only the pipeline and RoomService hold one.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/event_graph_store.h"
#include "storage/room_store.h"

namespace herald::storage {

// A timeline event as the pipeline stores it.
struct GraphEventRow {
  NewEventRow row;  // stream assigned; its PDU carries its prev and auth edges
  EventStateGroups state;
  // Also make the event the current state of its (type, state_key): true when the room's current
  // state is the state after this event (a local event, or a received one that leaves one extremity).
  bool becomes_current_state = false;
};

class RoomWriteTransaction {
 public:
  virtual ~RoomWriteTransaction() = default;

  // Serialises writers of the room until the transaction ends.
  virtual void lock_room(const std::string& room_id) = 0;
  // The next position in the stream, past anything stored (also by another process).
  virtual std::int64_t next_stream_position() = 0;
  // The room's latest stored position: a cached room built up to another position is stale.
  virtual std::int64_t room_position(const std::string& room_id) = 0;

  // Events: the PDU text of a stored event (timeline or outside it, not rejected), whether it is known
  // at all, its state groups, its place outside the timeline.
  virtual std::optional<std::string> find_pdu(const std::string& event_id) = 0;
  virtual bool is_known(const std::string& event_id) = 0;
  virtual std::optional<EventStateGroups> state_groups_of(const std::string& event_id) = 0;
  virtual std::optional<OutsideEvent> find_outside(const std::string& event_id) = 0;
  // The state just after a stored timeline event by stream order: for events stored before the graph.
  virtual StateIds linear_state_after(const std::string& room_id, const std::string& event_id) = 0;

  // State groups.
  virtual StateIds state_of_group(std::int64_t group) = 0;
  // `prev`, when given, is prev_group's place in its chain and `prev_state` returns its state (both from a
  // cache): then nothing of prev_group is read back. Returns the new group's place.
  virtual StateGroupInfo add_state_delta(const std::string& room_id, std::int64_t prev_group, const StateGroupInfo* prev,
                                         const rooms::StateKey& key, const std::string& event_id, bool adds_key,
                                         const CachedState& prev_state = {}) = 0;
  virtual std::int64_t add_state_group(const std::string& room_id, std::optional<std::int64_t> prev_group,
                                       const StateIds& state) = 0;
  virtual std::optional<std::int64_t> room_state_group(const std::string& room_id) = 0;
  virtual void set_room_state_group(const std::string& room_id, std::int64_t group) = 0;

  // The graph.
  virtual std::vector<std::string> forward_extremities(const std::string& room_id) = 0;
  virtual void update_forward_extremities(const std::string& room_id, const std::vector<std::string>& replaced,
                                          const std::optional<std::string>& added) = 0;
  virtual void add_missing_prev(const std::string& room_id, const std::string& missing_id, const std::string& referrer_id) = 0;
  virtual std::vector<std::string> take_referrers(const std::string& event_id) = 0;

  // Appends a timeline event with its state groups (its edges are in its PDU).
  virtual void append(const GraphEventRow& event) = 0;
  // Stores a state event of a room's snapshot (a join through another server): current state, not
  // timeline (its auth edges are in its PDU, as every event's are).
  virtual void append_state_only(const NewEventRow& row) = 0;
  virtual void store_outside(const OutsideEvent& event, std::int64_t now_ms) = 0;
  virtual void delete_outside(const std::string& event_id) = 0;
  // Sets (or, without an event, removes) one key of the room's current state.
  virtual void set_current_state(const std::string& room_id, const rooms::StateKey& key,
                                 const std::optional<std::string>& event_id) = 0;
};

}  // namespace herald::storage
