#include "homeserver/sync/legacy_sync.h"

#include <algorithm>
#include <map>
#include <set>

#include "homeserver/membership/invite_permission.h"
#include "homeserver/presence/presence_service.h"
#include "homeserver/rooms/room_registry.h"
#include "homeserver/sync/sync_service.h"
#include "storage/account_data_store.h"
#include "storage/database.h"
#include "storage/presence_store.h"
#include "storage/room_store.h"

namespace herald::homeserver {
namespace rs = storage::room_store;
namespace {

// The legacy APIs' m.presence event also names the user inside its content, and always has a status_msg.
nlohmann::json legacy_presence_event(const storage::StoredPresence& p, std::int64_t now) {
  nlohmann::json event = presence_event(p, now);
  event["content"]["user_id"] = p.user_id;
  if (!event["content"].contains("status_msg")) event["content"]["status_msg"] = nullptr;
  return event;
}

// The legacy presence of each of `users`: what they set, else offline (as Synapse's initialSync).
nlohmann::json legacy_presence_of(storage::sql::Connection& c, const std::set<std::string>& users, std::int64_t now) {
  nlohmann::json out = nlohmann::json::array();
  std::set<std::string> missing = users;
  for (const auto& p : storage::presence_store::of_users(c, {users.begin(), users.end()})) {
    out.push_back(legacy_presence_event(p, now));
    missing.erase(p.user_id);
  }
  for (const auto& user : missing) {
    out.push_back({{"type", "m.presence"},
                   {"sender", user},
                   {"content", {{"presence", "offline"}, {"user_id", user}, {"status_msg", nullptr}}}});
  }
  return out;
}

// A room event in the legacy (v1) client format, which also names its sender as `user_id`.
nlohmann::json legacy_event(const storage::StoredEvent& e, const events::RoomVersion& version, std::int64_t now) {
  nlohmann::json event = client_event(e, version, now, true);
  event["user_id"] = event["sender"];
  return event;
}

// One room in the legacy initialSync shape: membership, messages (oldest first) and state.
nlohmann::json room_snapshot(storage::sql::Connection& c, const Room& room, const storage::StoredMembership& m,
                             std::int64_t to, std::int64_t limit, std::int64_t now) {
  const std::int64_t upto = m.membership == "join" ? to : m.stream;
  auto rows = rs::events_between(c, room.room_id, 0, upto, limit, true);
  std::reverse(rows.begin(), rows.end());
  nlohmann::json chunk = nlohmann::json::array();
  for (const auto& r : rows) chunk.push_back(legacy_event(r, *room.version, now));
  nlohmann::json state = nlohmann::json::array();
  for (const auto& r : rs::state_before(c, room.room_id, upto + 1)) state.push_back(legacy_event(r, *room.version, now));
  const std::int64_t first = rows.empty() ? upto + 1 : rows.front().stream;
  nlohmann::json out = {{"room_id", room.room_id},
                        {"membership", m.membership},
                        {"messages", {{"chunk", chunk}, {"start", "t" + std::to_string(first)}, {"end", "s" + std::to_string(upto)}}},
                        {"state", state},
                        {"presence", nlohmann::json::array()},
                        {"receipts", nlohmann::json::array()},
                        {"account_data", nlohmann::json::array()}};
  out["visibility"] = room.in_public_directory() ? "public" : "private";
  if (m.membership == "invite") {
    if (auto own = rs::find_event(c, m.event_id)) out["inviter"] = nlohmann::json::parse(own->pdu).value("sender", "");
  }
  return out;
}

}  // namespace

Task<nlohmann::json> LegacySync::initial_sync(UserId user_id, std::int64_t to, std::int64_t limit, bool archived, std::int64_t now) {
  const std::string user = user_id.str();
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    nlohmann::json rooms = nlohmann::json::array();
    std::map<std::string, nlohmann::json> room_account_data;
    nlohmann::json account_data = nlohmann::json::array();
    for (const auto& a : storage::account_data_store::changed(c, user, 0, to)) {
      nlohmann::json event = {{"type", a.type}, {"content", nlohmann::json::parse(a.content)}};
      if (a.room_id.empty()) account_data.push_back(std::move(event));
      else room_account_data[a.room_id].push_back(std::move(event));
    }
    const bool invites_blocked = invite_permission::blocks_invites(c, user);
    for (const auto& m : rs::memberships_of(c, user)) {
      if (m.forgotten || m.stream > to) continue;
      if (!archived && (m.membership == "leave" || m.membership == "ban")) continue;
      if (m.membership == "invite" && invites_blocked) continue;
      auto room = registry_.get(c, m.room_id);
      if (!room) continue;
      nlohmann::json snapshot = room_snapshot(c, *room, m, to, limit, now);
      if (auto it = room_account_data.find(m.room_id); it != room_account_data.end()) snapshot["account_data"] = it->second;
      rooms.push_back(std::move(snapshot));
    }
    // Everyone the user shares a room with (and the user).
    std::set<std::string> sharing{user};
    for (const auto& m : rs::memberships_of(c, user)) {
      if (m.membership != "join") continue;
      if (auto room = registry_.get(c, m.room_id)) {
        for (auto& member : room->joined_members()) sharing.insert(std::move(member));
      }
    }
    nlohmann::json presence = legacy_presence_of(c, sharing, now);
    return nlohmann::json{{"end", "s" + std::to_string(to)}, {"rooms", std::move(rooms)}, {"presence", std::move(presence)},
                          {"account_data", std::move(account_data)}};
  });
}

Task<std::optional<nlohmann::json>> LegacySync::room_initial_sync(UserId user_id, std::shared_ptr<Room> room, std::int64_t to,
                                                                  std::int64_t limit, std::int64_t now) {
  const std::string user = user_id.str();
  co_return co_await db_.read([&](storage::sql::Connection& c) -> std::optional<nlohmann::json> {
    auto m = rs::membership(c, room->room_id, user);
    if (!m || m->membership == "invite" || m->membership == "knock" || m->forgotten) return std::nullopt;
    nlohmann::json out = room_snapshot(c, *room, *m, to, limit, now);
    // The members' presence, for a member only (a former one sees the room as it was, without it).
    if (m->membership == "join") {
      std::set<std::string> members;
      for (auto& member : room->joined_members()) members.insert(std::move(member));
      out["presence"] = legacy_presence_of(c, members, now);
    }
    return out;
  });
}

Task<LegacyEvents> LegacySync::events(UserId user_id, std::int64_t from, std::int64_t to, std::int64_t now) {
  const std::string user = user_id.str();
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    LegacyEvents out;
    std::vector<std::pair<std::int64_t, nlohmann::json>> found;
    const bool invites_blocked = invite_permission::blocks_invites(c, user);
    for (const auto& m : rs::memberships_of(c, user)) {
      if (m.membership == "join") out.joined_rooms.push_back(m.room_id);
      if (m.stream <= from && m.membership != "join") continue;
      if (m.membership == "invite" && invites_blocked) continue;
      auto room = registry_.get(c, m.room_id);
      if (!room) continue;
      const std::int64_t upto = m.membership == "join" ? to : std::min(to, m.stream);
      for (const auto& r : rs::events_between(c, m.room_id, from, upto, 100, false))
        found.emplace_back(r.stream, client_event(r, *room->version, now, true));
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [stream, e] : found) out.chunk.push_back(std::move(e));
    return out;
  });
}

}  // namespace herald::homeserver
