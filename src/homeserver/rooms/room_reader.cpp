#include "homeserver/rooms/room_reader.h"

#include "homeserver/accounts/account_data_service.h"
#include "storage/database.h"

namespace herald::homeserver {
namespace rs = storage::room_store;

Task<std::optional<storage::StoredMembership>> RoomReader::membership(RoomId room, UserId user) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return rs::membership(c, room.str(), user.str()); });
}

Task<std::vector<std::string>> RoomReader::joined_rooms(UserId user) {
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    std::vector<std::string> out;
    for (const auto& m : rs::memberships_of(c, user.str()))
      if (m.membership == "join") out.push_back(m.room_id);
    return out;
  });
}

Task<std::vector<storage::StoredEvent>> RoomReader::state(RoomId room, std::optional<std::int64_t> upto) {
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    return upto ? rs::state_before(c, room.str(), *upto + 1) : rs::current_state(c, room.str());
  });
}

Task<std::optional<storage::StoredEvent>> RoomReader::event(std::string event_id) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return rs::find_event(c, event_id); });
}

Task<EventRead> RoomReader::event_for(RoomId room, std::string event_id, UserId user, rooms::Membership current) {
  const std::string membership(rooms::to_string(current));
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    return EventRead{rs::find_event(c, event_id), rs::history_visibility_for(c, room.str(), user.str(), membership)};
  });
}

Task<PageRead> RoomReader::page(RoomId room, UserId user, rooms::Membership current, std::int64_t lower, std::int64_t upper,
                                std::int64_t limit, bool backwards) {
  const std::string membership(rooms::to_string(current));
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    auto history = rs::history_visibility_for(c, room.str(), user.str(), membership);
    auto ignored = ignored_users(c, user.str());
    return PageRead{rs::events_between(c, room.str(), lower, upper, limit, backwards), std::move(history), std::move(ignored)};
  });
}

Task<ContextRead> RoomReader::context(RoomId room, std::string event_id, UserId user, rooms::Membership current,
                                      std::int64_t ceiling, std::int64_t before_limit, std::int64_t after_limit) {
  const std::string membership(rooms::to_string(current));
  const std::string& room_id = room.str();
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    ContextRead f{rs::find_event(c, event_id), {}, {}, {}, rs::history_visibility_for(c, room_id, user.str(), membership)};
    if (!f.event || f.event->room_id != room_id || f.event->stream > ceiling) return f;
    f.before = rs::events_between(c, room_id, 0, f.event->stream - 1, before_limit, true);
    f.after = rs::events_between(c, room_id, f.event->stream, ceiling, after_limit, false);
    const std::int64_t last = f.after.empty() ? f.event->stream : f.after.back().stream;
    f.state = rs::state_before(c, room_id, last + 1);
    return f;
  });
}

Task<std::vector<std::string>> RoomReader::aliases(RoomId room) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return rs::aliases_of(c, room.str()); });
}

Task<PublicRoomsRead> RoomReader::public_rooms(std::int64_t limit, std::int64_t offset) {
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    return PublicRoomsRead{rs::public_rooms(c, limit, offset), rs::count_public_rooms(c)};
  });
}

}  // namespace herald::homeserver
