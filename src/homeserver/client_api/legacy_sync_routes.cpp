// The pre-/sync API that older clients and test suites still call (api/v1, r0):
// GET /initialSync, GET /rooms/{roomId}/initialSync and GET /events (a long-poll event stream).
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/legacy_sync.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/sync_service.h"

namespace herald::homeserver {
namespace {
constexpr std::int64_t kMaxTimeoutMs = 120'000;

Task<http::Response> get_initial_sync(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::int64_t limit = int_query_param(req, "limit", 10, 0, 500);
  // Rooms the user left or was banned from only with archived=true (as Synapse).
  const bool archived = req.query_param("archived").value_or("false") == "true";
  const std::int64_t to = api.rooms.stream_position();
  const std::int64_t now = api.clock.now_ms();
  nlohmann::json body = co_await api.legacy_sync.initial_sync(s.user_id, to, limit, archived, now);
  co_return http::Response::json(200, body);
}

Task<http::Response> get_room_initial_sync(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const std::int64_t limit = int_query_param(req, "limit", 10, 0, 500);
  const std::int64_t to = api.rooms.stream_position();
  const std::int64_t now = api.clock.now_ms();
  auto room = co_await api.rooms.find_room(room_id);
  if (!room) throw MatrixError(Errc::forbidden, "You are not a member of this room");
  auto snapshot = co_await api.legacy_sync.room_initial_sync(s.user_id, room, to, limit, now);
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
    LegacyEvents found = co_await api.legacy_sync.events(s.user_id, from, to, now);
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!found.chunk.empty() || remaining.count() <= 0) {
      co_return http::Response::json(200, {{"chunk", found.chunk}, {"start", "s" + std::to_string(from)}, {"end", "s" + std::to_string(to)}});
    }
    co_await api.notifier.wait(user, found.joined_rooms, to, remaining);
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
