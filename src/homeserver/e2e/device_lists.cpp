#include "homeserver/e2e/device_lists.h"

#include "storage/e2e_key_store.h"
#include "storage/room_store.h"
#include "storage/sql/connection.h"

namespace herald::homeserver {
namespace rs = storage::room_store;

std::set<std::string> users_sharing_a_room(storage::sql::Connection& c, const std::string& user) {
  std::set<std::string> out{user};
  for (const auto& r : c.query("SELECT DISTINCT theirs.user_id FROM memberships mine JOIN memberships theirs "
                               "ON theirs.room_id = mine.room_id WHERE mine.user_id = $1 AND mine.membership = 'join' "
                               "AND theirs.membership = 'join'",
                               {user}))
    out.insert(r.get_text(0));
  return out;
}

DeviceListDelta device_list_delta(storage::sql::Connection& c, const std::string& user, std::int64_t since, std::int64_t to) {
  DeviceListDelta d;
  const std::set<std::string> changed = storage::e2e_key_store::device_lists_changed(c, since, to);
  // Membership changes in range, in rooms the user is or was in.
  std::set<std::string> my_rooms;
  for (const auto& m : rs::memberships_of(c, user)) my_rooms.insert(m.room_id);
  std::set<std::string> touched;
  for (const auto& r : c.query("SELECT room_id, state_key, membership FROM events WHERE type = 'm.room.member' "
                               "AND stream_ordering > $1 AND stream_ordering <= $2",
                               {since, to})) {
    const std::string room = r.get_text(0);
    if (!my_rooms.contains(room)) continue;
    const std::string member = r.get_text(1);
    const std::string membership = r.is_null(2) ? "" : r.get_text(2);
    if (member == user) {
      // The user joined (everyone there is new to them) or left (everyone there may be gone).
      for (const auto& m : c.query("SELECT user_id FROM memberships WHERE room_id = $1 AND membership = 'join'", {room}))
        touched.insert(m.get_text(0));
      if (membership != "join") {
        for (const auto& m : c.query("SELECT state_key FROM events WHERE room_id = $1 AND type = 'm.room.member' "
                                     "AND stream_ordering > $2 AND stream_ordering <= $3",
                                     {room, since, to}))
          touched.insert(m.get_text(0));
      }
    } else {
      touched.insert(member);
    }
  }
  // Who shares a room with the user is read only when something changed (most syncs: nothing did).
  if (changed.empty() && touched.empty()) return d;
  const std::set<std::string> sharing = users_sharing_a_room(c, user);
  for (const auto& u : changed)
    if (sharing.contains(u)) d.changed.insert(u);
  for (const auto& u : touched) {
    if (u == user) continue;
    if (sharing.contains(u)) d.changed.insert(u);
    else d.left.insert(u);
  }
  return d;
}

}  // namespace herald::homeserver
