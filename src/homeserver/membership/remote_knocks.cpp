#include "homeserver/membership/remote_knocks.h"

#include "core/clock.h"
#include "events/room_version.h"
#include "homeserver/membership/remote_invites.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/database.h"
#include "storage/event_graph_store.h"
#include "storage/room_store.h"

namespace herald::homeserver {

namespace remote_knocks {

nlohmann::json kept_form(const nlohmann::json& pdu, const events::RoomVersion& version,
                         const nlohmann::json& knock_room_state) {
  nlohmann::json kept = pdu;
  kept["unsigned"] = {{"knock_room_state", remote_invites::stripped(knock_room_state)},
                      {"room_version", std::string(version.id)}};
  return kept;
}

}  // namespace remote_knocks

Task<void> RemoteKnocks::keep(std::string knocker, std::string room_id, std::string event_id, nlohmann::json kept) {
  const std::string text = kept.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::int64_t now = clock_.now_ms();
  std::int64_t position = 0;
  auto job = [&](storage::sql::Connection& c) {
    if (!storage::event_graph_store::find_outside(c, event_id)) {
      storage::event_graph_store::insert_outside(
          c, {event_id, room_id, storage::OutsideStatus::outlier, std::string("knock over federation"), text, std::nullopt},
          now);
    }
    // A room one of our users is in takes the knock through /send; one we left keeps it here.
    if (storage::room_store::has_joined_local_user(c, room_id)) return;
    const auto current = storage::room_store::membership(c, room_id, knocker);
    if (current && (current->membership == "join" || current->membership == "ban")) return;
    if (current && current->event_id == event_id) return;  // the same knock again
    position = stream_.next_after(storage::room_store::max_stream(c));
    storage::room_store::set_membership_outside_timeline(c, room_id, knocker, "knock", event_id, position);
  };
  co_await db_.write(job);
  if (position) notifier_.notify_users(position, {knocker});
}

}  // namespace herald::homeserver
