// The pre-/sync API that older clients and test suites still call (api/v1, r0):
// GET /initialSync, GET /rooms/{roomId}/initialSync and GET /events (a long-poll event stream).
#include <algorithm>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/presence/presence_service.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/sync_service.h"
#include "storage/account_data_store.h"
#include "storage/database.h"
#include "storage/presence_store.h"
#include "storage/room_store.h"

namespace herald::homeserver {
namespace rs = storage::room_store;
namespace {
constexpr std::int64_t kMaxTimeoutMs = 120'000;

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

Task<http::Response> get_initial_sync(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::int64_t limit = int_query_param(req, "limit", 10, 0, 500);
  // Rooms the user left or was banned from only with archived=true (as Synapse).
  const bool archived = req.query_param("archived").value_or("false") == "true";
  const std::int64_t to = api.rooms.stream_position();
  const std::int64_t now = api.clock.now_ms();
  const std::string user = s.user_id.str();
  nlohmann::json body = co_await api.db.read([&](storage::sql::Connection& c) {
    nlohmann::json rooms = nlohmann::json::array();
    std::map<std::string, nlohmann::json> room_account_data;
    nlohmann::json account_data = nlohmann::json::array();
    for (const auto& a : storage::account_data_store::changed(c, user, 0, to)) {
      nlohmann::json event = {{"type", a.type}, {"content", nlohmann::json::parse(a.content)}};
      if (a.room_id.empty()) account_data.push_back(std::move(event));
      else room_account_data[a.room_id].push_back(std::move(event));
    }
    for (const auto& m : rs::memberships_of(c, user)) {
      if (m.forgotten || m.stream > to) continue;
      if (!archived && (m.membership == "leave" || m.membership == "ban")) continue;
      auto room = api.rooms.registry().get(c, m.room_id);
      if (!room) continue;
      nlohmann::json snapshot = room_snapshot(c, *room, m, to, limit, now);
      if (auto it = room_account_data.find(m.room_id); it != room_account_data.end()) snapshot["account_data"] = it->second;
      rooms.push_back(std::move(snapshot));
    }
    // Everyone the user shares a room with (and the user).
    std::set<std::string> sharing{user};
    for (const auto& m : rs::memberships_of(c, user)) {
      if (m.membership != "join") continue;
      if (auto room = api.rooms.registry().get(c, m.room_id)) {
        for (auto& member : room->joined_members()) sharing.insert(std::move(member));
      }
    }
    nlohmann::json presence = legacy_presence_of(c, sharing, now);
    return nlohmann::json{{"end", "s" + std::to_string(to)}, {"rooms", std::move(rooms)}, {"presence", std::move(presence)},
                          {"account_data", std::move(account_data)}};
  });
  co_return http::Response::json(200, body);
}

Task<http::Response> get_room_initial_sync(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::string room_id = room_id_param(req);
  const std::int64_t limit = int_query_param(req, "limit", 10, 0, 500);
  const std::int64_t to = api.rooms.stream_position();
  const std::int64_t now = api.clock.now_ms();
  const std::string user = s.user_id.str();
  auto room = co_await api.rooms.find_room(room_id);
  if (!room) throw MatrixError(Errc::forbidden, "You are not a member of this room");
  auto snapshot = co_await api.db.read([&](storage::sql::Connection& c) -> std::optional<nlohmann::json> {
    auto m = rs::membership(c, room_id, user);
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
  if (!snapshot) throw MatrixError(Errc::forbidden, "You are not a member of this room");
  co_return http::Response::json(200, *snapshot);
}

// The events after `from` in rooms the user is joined to (or whose membership changed), oldest first.
Task<http::Response> get_events(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  std::int64_t from = api.rooms.stream_position();
  if (auto f = req.query_param("from")) {
    auto v = parse_stream_token(*f);
    if (!v) throw MatrixError(Errc::invalid_param, "Invalid 'from' token");
    from = *v;
  }
  const auto timeout = std::chrono::milliseconds(int_query_param(req, "timeout", 30'000, 0, kMaxTimeoutMs));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string user = s.user_id.str();
  const std::int64_t now = api.clock.now_ms();
  for (;;) {
    const std::int64_t to = api.rooms.stream_position();
    std::vector<std::string> joined_rooms;
    auto chunk = co_await api.db.read([&](storage::sql::Connection& c) {
      std::vector<std::pair<std::int64_t, nlohmann::json>> found;
      for (const auto& m : rs::memberships_of(c, user)) {
        if (m.membership == "join") joined_rooms.push_back(m.room_id);
        if (m.stream <= from && m.membership != "join") continue;
        auto room = api.rooms.registry().get(c, m.room_id);
        if (!room) continue;
        const std::int64_t upto = m.membership == "join" ? to : std::min(to, m.stream);
        for (const auto& r : rs::events_between(c, m.room_id, from, upto, 100, false))
          found.emplace_back(r.stream, client_event(r, *room->version, now, true));
      }
      std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      nlohmann::json out = nlohmann::json::array();
      for (auto& [stream, e] : found) out.push_back(std::move(e));
      return out;
    });
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!chunk.empty() || remaining.count() <= 0) {
      co_return http::Response::json(200, {{"chunk", chunk}, {"start", "s" + std::to_string(from)}, {"end", "s" + std::to_string(to)}});
    }
    co_await api.notifier.wait(user, joined_rooms, to, remaining);
    if (api.rooms.stream_position() == to) {
      co_return http::Response::json(200, {{"chunk", nlohmann::json::array()}, {"start", "s" + std::to_string(from)},
                                           {"end", "s" + std::to_string(to)}});
    }
  }
}

}  // namespace

void add_legacy_sync_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixesWithV1, Method::get, "/initialSync", get_initial_sync, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/rooms/{roomId}/initialSync", get_room_initial_sync, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/events", get_events, api);
}

}  // namespace herald::homeserver
