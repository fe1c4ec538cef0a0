// createRoom, room state, sending, messages, events, redaction, members, joined_rooms.
#include <algorithm>
#include <set>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "events/room_version.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/membership/third_party_invites.h"
#include "homeserver/rooms/room_reader.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/sync_service.h"

namespace herald::homeserver {
namespace {


// The {stateKey} path parameter; routes without it (".../state/{eventType}") mean the empty key.
std::string state_key_param(const http::Request& req) {
  for (const auto& [k, v] : req.path_params)
    if (k == "stateKey") return v;
  return "";
}

bool is_own_member_event(const nlohmann::json& e, const std::string& user) {
  return e.value("type", "") == "m.room.member" && e.value("state_key", "") == user;
}

Task<http::Response> post_create_room(http::Request req, ClientApi& api) {
  const Session session = co_await require_session(req, api.accounts);
  const nlohmann::json body = json_body::parse_object(req.body);
  CreateRoomRequest r;
  r.visibility = json_body::optional_string(body, "visibility");
  r.preset = json_body::optional_string(body, "preset");
  r.room_alias_name = json_body::optional_string(body, "room_alias_name");
  r.name = json_body::optional_string(body, "name");
  r.topic = json_body::optional_string(body, "topic");
  r.room_version = json_body::optional_string(body, "room_version");
  r.is_direct = json_body::optional_bool(body, "is_direct").value_or(false);
  if (const auto* invite = json_body::optional_array(body, "invite")) {
    for (const auto& u : *invite) {
      if (!u.is_string()) throw MatrixError(Errc::bad_json, "'invite' must be an array of user IDs");
      r.invite.push_back(parse_user_id(u.get<std::string>(), "invite"));
    }
  }
  if (const auto* s = json_body::optional_array(body, "initial_state")) r.initial_state = *s;
  if (const auto* c = json_body::optional_object(body, "creation_content")) r.creation_content = *c;
  if (const auto* p = json_body::optional_object(body, "power_level_content_override")) r.power_level_content_override = *p;
  // Third-party invites are checked before the room exists and sent once it does.
  std::vector<ThreepidInvite> invite_3pid;
  if (const auto* tp = json_body::optional_array(body, "invite_3pid")) {
    for (const auto& entry : *tp) {
      if (!entry.is_object()) throw MatrixError(Errc::bad_json, "'invite_3pid' must be an array of objects");
      invite_3pid.push_back(ThirdPartyInvites::parse(entry));
      api.third_party.target_of(invite_3pid.back().id_server);
    }
  }
  // Every token up front: a refusal must come before the room exists, not halfway through its invites.
  const std::string user = session.user_id.str();
  std::vector<RateTake> takes{{RateAction::room_creation, user, 1}};
  if (!invite_3pid.empty()) takes.push_back({RateAction::third_party_invite, user, static_cast<double>(invite_3pid.size())});
  api.limiter.take_all_or_throw(takes);
  const std::string created = co_await api.rooms.create_room(session.user_id, std::move(r));
  const RoomId room_id = RoomId::parse(created).value();
  for (auto& tp : invite_3pid) co_await api.third_party.invite(session.user_id, room_id, tp);
  co_return http::Response::json(200, {{"room_id", room_id.str()}});
}

// Members see current state; former members see the state when they left; others get 403.
Task<std::pair<std::shared_ptr<Room>, std::optional<storage::StoredMembership>>> visible_room(ClientApi& api, const Session& s,
                                                                                              RoomId room_id) {
  auto room = co_await api.rooms.find_room(room_id);
  if (!room) throw MatrixError(Errc::forbidden, "You are not allowed to view this room (unknown room " + room_id.str() + ")");
  if (room->membership_of(s.user_id.str()) == rooms::Membership::join) co_return std::make_pair(room, std::optional<storage::StoredMembership>());
  auto m = co_await api.room_reader.membership(room_id, s.user_id);
  if (!m || m->membership == "invite" || m->membership == "knock") {
    throw MatrixError(Errc::forbidden, "You are not a member of this room");
  }
  // A forgotten room's history is gone for the user until they join it again.
  if (m->forgotten) throw MatrixError(Errc::forbidden, "You have forgotten this room");
  co_return std::make_pair(room, m);
}

// The state the requester may see, in client format: current state for members, the state at the
// time they left for former members.
Task<nlohmann::json> visible_state(ClientApi& api, const Session& s, RoomId room_id) {
  auto [room, left] = co_await visible_room(api, s, room_id);
  const std::int64_t now = api.clock.now_ms();
  std::optional<std::int64_t> upto;
  if (left) upto = left->stream;
  auto rows = co_await api.room_reader.state(room_id, upto);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) out.push_back(client_event(r, *room->version, now, true));
  co_return out;
}

Task<http::Response> get_state(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const nlohmann::json state = co_await visible_state(api, s, room_id);
  co_return http::Response::json(200, state);
}

Task<http::Response> get_state_event(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const std::string type = req.path_param("eventType");
  const std::string key = state_key_param(req);
  auto [room, left] = co_await visible_room(api, s, room_id);
  std::optional<nlohmann::json> found;
  if (!left) {
    // A member sees the current state: one event, found through the cached room, read as stored.
    if (const events::EventPtr current = room->state_event(type, key)) {
      const std::string event_id = current->event_id();
      auto row = co_await api.room_reader.event(event_id);
      if (row) {
        found = client_event(*row, *room->version, api.clock.now_ms(), true);
      } else {
        // The writer puts an event in the room's cache just before its group commit: read in between, it
        // is not stored yet. The cached event is the same event.
        found = current->client_format(true);
        (*found)["unsigned"] = {{"age", std::max<std::int64_t>(0, api.clock.now_ms() - current->origin_server_ts())}};
      }
    }
  } else {
    nlohmann::json state = co_await visible_state(api, s, room_id);
    for (auto& e : state) {
      if (e["type"] == type && e.value("state_key", "") == key) found = std::move(e);
    }
  }
  if (!found) throw MatrixError(Errc::not_found, "Event not found.");
  if (req.query_param("format").value_or("content") == "event") co_return http::Response::json(200, *found);
  co_return http::Response::json(200, (*found)["content"]);
}

// Sends a message or state event as the requester (rate limited like messages) and answers its ID.
Task<http::Response> send_as(ClientApi& api, const Session& s, RoomId room_id, events::EventDraft draft,
                             std::optional<std::string> txn_key) {
  api.limiter.take_or_throw(RateAction::message, s.user_id.str());
  const std::string event_id = co_await api.rooms.send(s.user_id, s.device_id, room_id, std::move(draft), txn_key);
  co_return http::Response::json(200, {{"event_id", event_id}});
}

// m.room.canonical_alias: `alias` and every entry of `alt_aliases` must be a valid alias (else
// M_INVALID_PARAM) that exists and points to this room (else M_BAD_ALIAS).
Task<void> check_canonical_alias(ClientApi& api, RoomId room_id, const nlohmann::json& content) {
  std::vector<std::string> aliases;
  if (auto a = content.find("alias"); a != content.end() && !a->is_null()) {
    if (!a->is_string()) throw MatrixError(Errc::invalid_param, "'alias' must be a string");
    aliases.push_back(a->get<std::string>());
  }
  if (auto alt = content.find("alt_aliases"); alt != content.end()) {
    if (!alt->is_array()) throw MatrixError(Errc::invalid_param, "'alt_aliases' must be a list of aliases");
    for (const auto& a : *alt) {
      if (!a.is_string()) throw MatrixError(Errc::invalid_param, "'alt_aliases' must be a list of aliases");
      aliases.push_back(a.get<std::string>());
    }
  }
  for (const auto& a : aliases)
    if (!is_room_alias(a)) throw MatrixError(Errc::invalid_param, "Invalid alias " + a);
  for (const auto& a : aliases) {
    auto target = co_await api.rooms.resolve_alias(a);
    if (!target || *target != room_id.str()) throw MatrixError(Errc::bad_alias, "Alias " + a + " does not point to this room");
  }
}

Task<http::Response> put_state_event(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const std::string type = req.path_param("eventType");
  const std::string key = state_key_param(req);
  nlohmann::json content = json_body::parse_object(req.body);
  std::string event_id;
  if (type == "m.room.member") {
    const std::string membership_text = json_body::required_string(content, "membership");
    const UserId target = parse_user_id(key, "stateKey");
    const std::optional<rooms::Membership> membership = rooms::parse_membership(membership_text);
    if (!membership) {
      // What the auth rules answer for any other word, once the room is known to exist.
      co_await api.rooms.require_room(room_id);
      throw MatrixError(Errc::forbidden, "Unknown membership '" + membership_text + "'");
    }
    content.erase("membership");
    content.erase("join_authorised_via_users_server");
    std::optional<std::string> reason = json_body::optional_string(content, "reason");
    content.erase("reason");
    event_id = co_await api.rooms.set_membership(s.user_id, room_id, target, *membership, reason, content);
  } else {
    if (type == "m.room.canonical_alias") co_await check_canonical_alias(api, room_id, content);
    events::EventDraft draft{type, key, s.user_id.str(), content, std::nullopt};
    co_return co_await send_as(api, s, room_id, std::move(draft), std::nullopt);
  }
  co_return http::Response::json(200, {{"event_id", event_id}});
}

Task<http::Response> put_send(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const std::string type = req.path_param("eventType");
  nlohmann::json content = json_body::parse_object(req.body);
  std::optional<std::string> txn_key;
  for (const auto& [k, v] : req.path_params)
    if (k == "txnId") txn_key = "send/" + room_id.str() + "/" + type + "/" + v;
  events::EventDraft draft{type, std::nullopt, s.user_id.str(), content, std::nullopt};
  if (type == "m.room.redaction") draft.redacts = json_body::optional_string(content, "redacts");
  co_return co_await send_as(api, s, room_id, std::move(draft), txn_key);
}

Task<http::Response> put_redact(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const std::string target = req.path_param("eventId");
  nlohmann::json content = json_body::parse_object_or_empty(req.body);
  auto stored = co_await api.room_reader.event(target);
  if (!stored || stored->room_id != room_id.str()) throw MatrixError(Errc::not_found, "Event not found.");
  auto room = co_await api.rooms.require_room(room_id);
  {
    const auto original = nlohmann::json::parse(stored->pdu);
    const std::string original_sender = original.value("sender", "");
    const std::string type = original.value("type", "");
    if (type == "m.room.create") throw MatrixError(Errc::forbidden, "You cannot redact the room's create event");
    const PowerOf power = room->power_of(s.user_id.str());
    if (original_sender != s.user_id.str() && power.user_level < power.levels.redact) {
      throw MatrixError(Errc::forbidden, "You don't have permission to redact other users' events");
    }
  }
  std::optional<std::string> txn_key = "redact/" + room_id.str() + "/" + target + "/" + req.path_param("txnId");
  events::EventDraft draft{"m.room.redaction", std::nullopt, s.user_id.str(), content, target};
  co_return co_await send_as(api, s, room_id, std::move(draft), txn_key);
}

Task<http::Response> get_event(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const std::string event_id = req.path_param("eventId");
  auto [room, left] = co_await visible_room(api, s, room_id);
  const std::string user = s.user_id.str();
  const rooms::Membership current = room->membership_of(user);
  auto [stored, history] = co_await api.room_reader.event_for(room_id, event_id, s.user_id, current);
  if (!stored || stored->room_id != room_id.str() || (left && stored->stream > left->stream)) {
    throw MatrixError(Errc::not_found, "Event not found.");
  }
  nlohmann::json event = client_event(*stored, *room->version, api.clock.now_ms(), true);
  if (!history.visible(stored->stream, is_own_member_event(event, user))) throw MatrixError(Errc::not_found, "Event not found.");
  co_return http::Response::json(200, event);
}

Task<http::Response> get_messages(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const std::string dir = req.query_param("dir").value_or("b");
  if (dir != "b" && dir != "f") throw MatrixError(Errc::invalid_param, "'dir' must be 'b' or 'f'");
  const std::int64_t limit = int_query_param(req, "limit", 10, 0, 1000);
  auto parse_token = [](const std::optional<std::string>& t, const char* name) -> std::optional<std::int64_t> {
    if (!t) return std::nullopt;
    auto v = parse_stream_token(*t);
    if (!v) throw MatrixError(Errc::invalid_param, std::string("Invalid '") + name + "' token");
    return v;
  };
  const auto from = parse_token(req.query_param("from"), "from");
  const auto to = parse_token(req.query_param("to"), "to");
  auto [room, left] = co_await visible_room(api, s, room_id);
  const std::int64_t ceiling = left ? left->stream : api.rooms.stream_position();
  const std::int64_t now = api.clock.now_ms();
  const std::string user = s.user_id.str();
  const rooms::Membership current = room->membership_of(user);
  const bool backwards = dir == "b";
  // Tokens point just past the newest event to return: events with stream < from.
  const std::int64_t lower = backwards ? (to ? *to - 1 : 0) : (from ? *from - 1 : 0);
  const std::int64_t upper = std::min(ceiling, backwards ? (from ? *from - 1 : ceiling) : (to ? *to - 1 : ceiling));
  auto [rows, history, ignored] = co_await api.room_reader.page(room_id, s.user_id, current, lower, upper, limit, backwards);
  nlohmann::json chunk = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json e = client_event(r, *room->version, now, true);
    // Messages of ignored users are not sent (state events are: the room would not make sense without them).
    if (!e.contains("state_key") && ignored.contains(e.value("sender", ""))) continue;
    if (history.visible(r.stream, is_own_member_event(e, user))) chunk.push_back(std::move(e));
  }
  const std::int64_t start = from.value_or(dir == "b" ? ceiling + 1 : 1);
  nlohmann::json out = {{"chunk", chunk}, {"start", "t" + std::to_string(start)}};
  if (static_cast<std::int64_t>(rows.size()) == limit && limit > 0) {
    out["end"] = "t" + std::to_string(dir == "b" ? rows.back().stream : rows.back().stream + 1);
  }
  co_return http::Response::json(200, out);
}

// GET /context/{eventId}: the event, up to limit/2 visible events before it (newest first) and the rest
// after it, and the state at the last event returned.
Task<http::Response> get_context(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const std::string event_id = req.path_param("eventId");
  const std::int64_t limit = int_query_param(req, "limit", 10, 0, 100);
  auto [room, left] = co_await visible_room(api, s, room_id);
  const std::int64_t ceiling = left ? left->stream : api.rooms.stream_position();
  const std::string user = s.user_id.str();
  const rooms::Membership current = room->membership_of(user);
  const std::int64_t before_limit = limit / 2, after_limit = limit - before_limit;
  const ContextRead found = co_await api.room_reader.context(room_id, event_id, s.user_id, current, ceiling, before_limit, after_limit);
  if (!found.event || found.event->room_id != room_id.str() || found.event->stream > ceiling) {
    throw MatrixError(Errc::not_found, "Event not found.");
  }
  const std::int64_t now = api.clock.now_ms();
  nlohmann::json event = client_event(*found.event, *room->version, now, true);
  if (!found.history.visible(found.event->stream, is_own_member_event(event, user))) {
    throw MatrixError(Errc::not_found, "Event not found.");
  }
  auto visible = [&](const std::vector<storage::StoredEvent>& rows) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json e = client_event(r, *room->version, now, true);
      if (found.history.visible(r.stream, is_own_member_event(e, user))) out.push_back(std::move(e));
    }
    return out;
  };
  nlohmann::json state = nlohmann::json::array();
  for (const auto& r : found.state) state.push_back(client_event(r, *room->version, now, true));
  // Tokens as /messages reads them: backwards from `start` returns events older than it, forwards from
  // `end` the events from it on.
  const std::int64_t start = found.before.empty() ? found.event->stream : found.before.back().stream;
  const std::int64_t end = (found.after.empty() ? found.event->stream : found.after.back().stream) + 1;
  co_return http::Response::json(200, {{"event", event},
                                       {"events_before", visible(found.before)},
                                       {"events_after", visible(found.after)},
                                       {"state", state},
                                       {"start", "t" + std::to_string(start)},
                                       {"end", "t" + std::to_string(end)}});
}

Task<http::Response> get_members(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const auto membership = req.query_param("membership");
  const auto not_membership = req.query_param("not_membership");
  const nlohmann::json state = co_await visible_state(api, s, room_id);
  nlohmann::json chunk = nlohmann::json::array();
  for (const auto& e : state) {
    if (e["type"] != "m.room.member") continue;
    const std::string m = e["content"].value("membership", "");
    if (membership || not_membership) {
      const bool match = (membership && m == *membership) || (not_membership && m != *not_membership);
      if (!match) continue;
    }
    chunk.push_back(e);
  }
  co_return http::Response::json(200, {{"chunk", chunk}});
}

Task<http::Response> get_joined_members(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  auto room = co_await api.rooms.find_room(room_id);
  if (!room || room->membership_of(s.user_id.str()) != rooms::Membership::join) throw MatrixError(Errc::forbidden, "You aren't a member of the room");
  nlohmann::json joined = nlohmann::json::object();
  for (const auto& e : room->joined_member_events()) {
    // Both keys always present, null when unset (as Synapse; matrix-nio requires display_name).
    nlohmann::json info = {{"display_name", nullptr}, {"avatar_url", nullptr}};
    if (auto d = e->content_string("displayname")) info["display_name"] = *d;
    if (auto a = e->content_string("avatar_url")) info["avatar_url"] = *a;
    joined[*e->state_key()] = info;
  }
  co_return http::Response::json(200, {{"joined", joined}});
}

Task<http::Response> get_joined_rooms(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::vector<std::string> rooms = co_await api.room_reader.joined_rooms(s.user_id);
  co_return http::Response::json(200, {{"joined_rooms", rooms}});
}

}  // namespace

void add_room_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixesWithV1, Method::post, "/createRoom", post_create_room, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/rooms/{roomId}/state", get_state, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/rooms/{roomId}/state/{eventType}", get_state_event, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/rooms/{roomId}/state/{eventType}/{stateKey}", get_state_event, api);
  add_under(router, kClientPrefixesWithV1, Method::put, "/rooms/{roomId}/state/{eventType}", put_state_event, api);
  add_under(router, kClientPrefixesWithV1, Method::put, "/rooms/{roomId}/state/{eventType}/{stateKey}", put_state_event, api);
  add_under(router, kClientPrefixesWithV1, Method::put, "/rooms/{roomId}/send/{eventType}/{txnId}", put_send, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/rooms/{roomId}/send/{eventType}", put_send, api);
  add_under(router, kClientPrefixesWithV1, Method::put, "/rooms/{roomId}/redact/{eventId}/{txnId}", put_redact, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/rooms/{roomId}/event/{eventId}", get_event, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/rooms/{roomId}/messages", get_messages, api);
  add_under(router, kClientPrefixes, Method::get, "/rooms/{roomId}/context/{eventId}", get_context, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/rooms/{roomId}/members", get_members, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/rooms/{roomId}/joined_members", get_joined_members, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/joined_rooms", get_joined_rooms, api);
}

}  // namespace herald::homeserver
