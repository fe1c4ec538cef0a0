// RoomService::join_from_snapshot: a room this server enters because one of its users joined it
// through another server.
#include "homeserver/rooms/room_service.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "events/room_version.h"
#include "rooms/auth/auth_rules.h"
#include "storage/database.h"
#include "storage/room_store.h"
#include "storage/sql/connection.h"
#include "storage/sql_room_write_transaction.h"

namespace herald::homeserver {
using events::EventPtr;

Task<std::optional<std::int64_t>> RoomService::join_from_snapshot(RoomId in_room, const events::RoomVersion& version,
                                                   RoomSnapshot snapshot, EventPtr join) {
  const std::string& room_id = in_room.str();
  const std::int64_t now = clock_.now_ms();
  rooms::RoomState state(version);
  for (const EventPtr& e : snapshot.state) state.apply(e);
  if (auto denial = rooms::auth::check_event(*join, state)) {
    throw MatrixError(Errc::forbidden, "The room's state does not allow the join: " + denial->reason);
  }
  std::shared_ptr<Room> room;
  std::int64_t stream = 0;
  bool placed = true;
  std::function<void(storage::sql::Connection&)> job = [&](storage::sql::Connection& c) {
    begin_write_job(c);
    stream = 0;
    placed = true;
    room = registry_.get_for_write(c, room_id, others_wrote_);
    auto tx = room_transaction(c);
    if (room && room->version->id != version.id) {
      throw MatrixError(Errc::unknown, "The room is known here with another room version", 502);
    }
    if (room && room->server_joined(options_.server_name)) {
      // Another local user got in first: this server follows the room, so the join is an ordinary
      // event from elsewhere now.
      const Received r = pipeline_.receive(tx, *room, join->pdu(), now);
      placed = r.outcome == Outcome::accepted || r.outcome == Outcome::duplicate;
      stream = r.stream;
      return;
    }
    const bool created = !room;
    if (created) {
      room = std::make_shared<Room>(room_id, version);
      storage::room_store::insert_room(c, storage::StoredRoom{room_id, std::string(version.id), snapshot.create->sender(), false},
                                       now);
    }
    const LocalEvent local{join, EventPipeline::timeline_row(*join, state)};
    stream = pipeline_.append_joined_snapshot(tx, *room, snapshot, local, now);
    if (created) registry_.add(room);
  };
  co_await write_room(room_id, job);
  if (!placed) co_return std::nullopt;
  if (stream > 0) {
    std::vector<Appended> appended{{join, stream}};
    notify(appended, *room);
  }
  log::info("room joined through another server room={} user={} state_events={} auth_chain={} refused={}", room_id,
            join->sender(), snapshot.state.size(), snapshot.auth_chain.size(), snapshot.refused.size());
  co_return stream;
}

}  // namespace herald::homeserver
