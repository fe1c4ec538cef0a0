// EventPipeline::append_joined_snapshot: a room's state taken from the server a local user joined
// through, and the join after it.
#include "homeserver/rooms/event_pipeline.h"

#include <mutex>

#include "homeserver/rooms/room_snapshot.h"
#include "storage/room_write_transaction.h"

namespace herald::homeserver {
using events::EventPtr;

std::int64_t EventPipeline::append_joined_snapshot(storage::RoomWriteTransaction& tx, Room& room,
                                                   const RoomSnapshot& snapshot, const LocalEvent& join,
                                                   std::int64_t now_ms) {
  tx.lock_room(room.room_id);
  // The auth chain beyond the state: kept outside the room, where the checks on receipt find events
  // that later PDUs name as auth events.
  for (const EventPtr& e : snapshot.auth_chain) {
    if (tx.is_known(e->event_id())) continue;
    tx.store_outside({e->event_id(), room.room_id, storage::OutsideStatus::outlier, std::string("auth chain of a join"),
                      e->pdu_text(), std::nullopt},
                     now_ms);
  }
  // The state: stored as state outside the timeline, unless the room already holds the event (a room
  // this server was in before); an event kept outside the room until now moves in.
  rooms::RoomState before(*room.version);
  storage::StateIds before_ids;
  const rooms::RoomState empty(*room.version);
  for (const EventPtr& e : snapshot.state) {
    before.apply(e);
    const rooms::StateKey key{e->type(), *e->state_key()};
    before_ids.emplace(key, e->event_id());
    if (tx.find_outside(e->event_id())) tx.delete_outside(e->event_id());
    else if (tx.is_known(e->event_id())) {
      tx.set_current_state(room.room_id, key, e->event_id());
      continue;
    }
    storage::NewEventRow row = timeline_row(*e, empty);
    row.stream = tx.next_stream_position();
    tx.append_state_only(row);
  }
  // What the room held before and the snapshot does not: no longer current.
  for (const auto& [key, event] : room.state.events()) {
    if (!before_ids.contains(key)) tx.set_current_state(room.room_id, key, std::nullopt);
  }

  // The join, on the snapshot's state.
  const EventPtr& event = join.event;
  const std::int64_t before_group = tx.add_state_group(room.room_id, std::nullopt, before_ids);
  const rooms::StateKey join_key{event->type(), *event->state_key()};
  const storage::StateGroupInfo after_info =
      tx.add_state_delta(room.room_id, before_group, nullptr, join_key, event->event_id(), !before_ids.contains(join_key));
  const std::int64_t after_group = after_info.group;
  storage::GraphEventRow stored{join.row, {before_group, after_group}, true};
  stored.row.stream = tx.next_stream_position();
  tx.append(stored);
  // The join's prev events are the resident server's extremities, unknown here: the join alone is
  // where this server's history of the room begins.
  tx.update_forward_extremities(room.room_id, tx.forward_extremities(room.room_id), event->event_id());
  tx.set_room_state_group(room.room_id, after_group);

  std::unique_lock lock(room.mutex);
  before.apply(event);
  room.replace_state(std::move(before));
  room.extremities = {event};
  room.state_group = after_group;
  room.state_group_info = after_info;
  room.position = stored.row.stream;
  return stored.row.stream;
}

}  // namespace herald::homeserver
