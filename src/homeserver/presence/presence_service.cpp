#include "homeserver/presence/presence_service.h"

#include <algorithm>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/database.h"
#include "storage/presence_store.h"
#include "storage/room_store.h"

namespace herald::homeserver {
namespace {
constexpr std::size_t kMaxStatusBytes = 1024;
}  // namespace

nlohmann::json presence_content(const storage::StoredPresence& p, std::int64_t now_ms) {
  nlohmann::json content = {{"presence", p.state},
                            {"last_active_ago", std::max<std::int64_t>(0, now_ms - p.last_active_ts)},
                            {"currently_active", p.state == "online"}};
  if (p.status_msg) content["status_msg"] = *p.status_msg;
  return content;
}

nlohmann::json presence_event(const storage::StoredPresence& p, std::int64_t now_ms) {
  return {{"type", "m.presence"}, {"sender", p.user_id}, {"content", presence_content(p, now_ms)}};
}

Task<void> PresenceService::set(UserId user, std::string state, std::optional<std::string> status_msg) {
  if (state != "online" && state != "unavailable" && state != "offline") {
    throw MatrixError(Errc::invalid_param, "'presence' must be one of online, unavailable, offline");
  }
  if (status_msg && status_msg->size() > kMaxStatusBytes) throw MatrixError(Errc::invalid_param, "'status_msg' is too long");
  storage::StoredPresence p{user.str(), state, status_msg, clock_.now_ms(), 0};
  std::vector<std::string> rooms;
  co_await db_.write([&](storage::sql::Connection& c) {
    p.stream = stream_.next();
    storage::presence_store::upsert(c, p);
    for (const auto& m : storage::room_store::memberships_of(c, p.user_id))
      if (m.membership == "join") rooms.push_back(m.room_id);
  });
  // Everyone in the user's rooms listens on those rooms; the user on themselves.
  notifier_.notify_user_and_rooms(p.stream, p.user_id, rooms);
}

Task<nlohmann::json> PresenceService::get(UserId observer, UserId target) {
  const std::string a = observer.str(), b = target.str();
  struct Found {
    bool visible = false;
    std::optional<storage::StoredPresence> presence;
  };
  Found found = co_await db_.read([&](storage::sql::Connection& c) {
    Found f;
    f.visible = a == b || storage::presence_store::share_a_room(c, a, b);
    if (f.visible) f.presence = storage::presence_store::find(c, b);
    return f;
  });
  if (!found.visible) throw MatrixError(Errc::forbidden, "You are not allowed to see their presence");
  if (!found.presence) {
    nlohmann::json offline = {{"presence", "offline"}};
    co_return offline;
  }
  co_return presence_content(*found.presence, clock_.now_ms());
}

}  // namespace herald::homeserver
