#include "homeserver/sync/sync_service.h"

#include <algorithm>

#include "core/clock.h"
#include "events/event.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "homeserver/rooms/room_registry.h"
#include "homeserver/sync/notifier.h"
#include "storage/database.h"
#include "storage/room_store.h"
#include "storage/sql/connection.h"

namespace herald::homeserver {
namespace rs = storage::room_store;

std::optional<std::int64_t> parse_stream_token(std::string_view token) {
  if (token.size() < 2 || (token[0] != 's' && token[0] != 't')) return std::nullopt;
  std::int64_t v = 0;
  for (char c : token.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v > (std::int64_t{1} << 53)) return std::nullopt;
  }
  return v;
}

nlohmann::json client_event(const storage::StoredEvent& e, const events::RoomVersion& version, std::int64_t now_ms,
                            bool with_room_id) {
  // Parsed once from the stored text; only a redacted event is re-serialised (in its redacted form).
  const events::EventPtr event =
      e.redacted_by ? std::make_shared<const events::Event>(
                          e.event_id, e.room_id, events::redact(nlohmann::json::parse(e.pdu), version), "")
                    : events::Event::from_text(e.event_id, e.room_id, e.pdu, "");
  nlohmann::json out = event->client_format(with_room_id);
  nlohmann::json unsigned_data = e.unsigned_json ? nlohmann::json::parse(*e.unsigned_json) : nlohmann::json::object();
  unsigned_data["age"] = std::max<std::int64_t>(0, now_ms - event->origin_server_ts());
  if (e.redacted_by) unsigned_data["redacted_because"] = {{"event_id", *e.redacted_by}};
  out["unsigned"] = unsigned_data;
  return out;
}

namespace {
constexpr const char* kStrippedTypes[] = {"m.room.create", "m.room.name",  "m.room.avatar", "m.room.topic",
                                          "m.room.join_rules", "m.room.canonical_alias", "m.room.encryption"};

nlohmann::json events_json(const std::vector<storage::StoredEvent>& rows, const events::RoomVersion& v, std::int64_t now) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) out.push_back(client_event(r, v, now, false));
  return out;
}

// Timeline events the user may see under the room's history visibility.
nlohmann::json visible_events_json(const std::vector<storage::StoredEvent>& rows, const events::RoomVersion& v,
                                   std::int64_t now, const rooms::HistoryVisibility& history, const std::string& user) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json e = client_event(r, v, now, false);
    const bool own = e.value("type", "") == "m.room.member" && e.value("state_key", "") == user;
    if (history.visible(r.stream, own)) out.push_back(std::move(e));
  }
  return out;
}

// Stripped state for an invite or knock (client-server.md §6): the room's public face, the inviter's
// member event, and the user's own member event in full.
nlohmann::json stripped_state(storage::sql::Connection& c, const Room& room, const storage::StoredMembership& m,
                              std::int64_t now) {
  nlohmann::json out = nlohmann::json::array();
  {
    std::shared_lock lock(room.mutex);
    for (const char* type : kStrippedTypes)
      if (const auto* e = room.state.find(type)) out.push_back((*e)->stripped());
  }
  auto own = rs::find_event(c, m.event_id);
  if (own) {
    nlohmann::json full = client_event(*own, *room.version, now, false);
    const std::string inviter = full.value("sender", "");
    {
      std::shared_lock lock(room.mutex);
      const auto* e = room.state.find("m.room.member", inviter);
      if (e && (*e)->event_id() != own->event_id) out.push_back((*e)->stripped());
    }
    // The user's own invite (or knock) event also carries the stripped state in its unsigned section.
    full["unsigned"][m.membership == "knock" ? "knock_room_state" : "invite_room_state"] = out;
    out.push_back(full);
  }
  return out;
}
}  // namespace

nlohmann::json SyncService::build(storage::sql::Connection& c, const SyncRequest& req, std::int64_t since, std::int64_t to,
                                  std::vector<std::string>& joined_rooms) {
  joined_rooms.clear();
  const std::int64_t now = clock_.now_ms();
  const bool initial = since == 0 || req.full_state;
  nlohmann::json join = nlohmann::json::object(), invite = nlohmann::json::object(), leave = nlohmann::json::object(),
                 knock = nlohmann::json::object();
  {
    for (const auto& m : rs::memberships_of(c, req.user.str())) {
      if (m.forgotten || m.stream > to) continue;
      auto room = registry_.get(c, m.room_id);
      if (!room) continue;
      const events::RoomVersion& v = *room->version;
      const bool changed = m.stream > since;
      if (m.membership == "join") {
        joined_rooms.push_back(m.room_id);
        const bool fresh = initial || changed;
        auto rows = rs::events_between(c, m.room_id, fresh ? 0 : since, to, req.timeline_limit + 1, true);
        if (rows.empty() && !fresh) continue;
        const bool limited = static_cast<std::int64_t>(rows.size()) > req.timeline_limit;
        if (limited) rows.pop_back();
        std::reverse(rows.begin(), rows.end());
        const std::int64_t first = rows.empty() ? to + 1 : rows.front().stream;
        nlohmann::json state = nlohmann::json::array();
        if (fresh || limited) state = events_json(rs::state_before(c, m.room_id, first), v, now);
        std::int64_t joined = 0, invited = 0;
        {
          std::shared_lock lock(room->mutex);
          joined = static_cast<std::int64_t>(room->joined.size());
          for (const auto& [key, e] : room->state.events())
            if (key.first == "m.room.member" && e->membership() == "invite") ++invited;
        }
        // A fresh view (initial sync or a new join) reaches back before the join: filter it by visibility.
        const nlohmann::json timeline =
            fresh ? visible_events_json(rows, v, now, rs::history_visibility_for(c, m.room_id, req.user.str(), "join"), req.user.str())
                  : events_json(rows, v, now);
        join[m.room_id] = {
            {"timeline", {{"events", timeline}, {"limited", limited}, {"prev_batch", "t" + std::to_string(first)}}},
            {"state", {{"events", state}}},
            {"summary", {{"m.joined_member_count", joined}, {"m.invited_member_count", invited}}},
            {"ephemeral", {{"events", nlohmann::json::array()}}},
            {"account_data", {{"events", nlohmann::json::array()}}},
            {"unread_notifications", {{"highlight_count", 0}, {"notification_count", 0}}}};
      } else if (m.membership == "invite") {
        if (!initial && !changed) continue;
        invite[m.room_id] = {{"invite_state", {{"events", stripped_state(c, *room, m, now)}}}};
      } else if (m.membership == "knock") {
        if (!initial && !changed) continue;
        knock[m.room_id] = {{"knock_state", {{"events", stripped_state(c, *room, m, now)}}}};
      } else {  // leave or ban
        if (!changed && !initial) continue;
        if (since == 0 && !req.include_leave) {
          // Initial sync: rooms the user was kicked or banned from appear; voluntary leaves only on request.
          auto own = rs::find_event(c, m.event_id);
          const bool by_other = own && nlohmann::json::parse(own->pdu).value("sender", "") != req.user.str();
          if (!by_other && m.membership != "ban") continue;
        }
        auto rows = rs::events_between(c, m.room_id, initial ? 0 : since, m.stream, req.timeline_limit + 1, true);
        const bool limited = static_cast<std::int64_t>(rows.size()) > req.timeline_limit;
        if (limited) rows.pop_back();
        std::reverse(rows.begin(), rows.end());
        const std::int64_t first = rows.empty() ? m.stream : rows.front().stream;
        const auto history = rs::history_visibility_for(c, m.room_id, req.user.str(), m.membership);
        leave[m.room_id] = {
            {"timeline", {{"events", visible_events_json(rows, v, now, history, req.user.str())}, {"limited", limited},
                          {"prev_batch", "t" + std::to_string(first)}}},
            {"state", {{"events", events_json(rs::state_before(c, m.room_id, first), v, now)}}},
            {"account_data", {{"events", nlohmann::json::array()}}}};
      }
    }
  }
  nlohmann::json rooms = nlohmann::json::object();
  if (!join.empty()) rooms["join"] = join;
  if (!invite.empty()) rooms["invite"] = invite;
  if (!leave.empty()) rooms["leave"] = leave;
  if (!knock.empty()) rooms["knock"] = knock;
  nlohmann::json out = {{"next_batch", "s" + std::to_string(to)},
                        {"account_data", {{"events", nlohmann::json::array()}}},
                        {"presence", {{"events", nlohmann::json::array()}}},
                        {"to_device", {{"events", nlohmann::json::array()}}},
                        {"device_lists", {{"changed", nlohmann::json::array()}, {"left", nlohmann::json::array()}}},
                        {"device_one_time_keys_count", nlohmann::json::object()},
                        {"device_unused_fallback_key_types", nlohmann::json::array()}};
  if (!rooms.empty()) out["rooms"] = rooms;
  return out;
}

Task<nlohmann::json> SyncService::sync(SyncRequest req) {
  const std::int64_t since = req.since.value_or(0);
  const auto deadline = std::chrono::steady_clock::now() + req.timeout;
  for (;;) {
    const std::int64_t to = notifier_.position();
    std::vector<std::string> joined_rooms;
    nlohmann::json result =
        co_await db_.read([&](storage::sql::Connection& c) { return build(c, req, since, to, joined_rooms); });
    const bool empty = !result.contains("rooms");
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!empty || since == 0 || req.full_state || remaining.count() <= 0) co_return result;
    co_await notifier_.wait(req.user.str(), joined_rooms, std::max(since, to), remaining);
    if (notifier_.position() == to) co_return result;  // timed out, or the server is shutting down
  }
}

}  // namespace herald::homeserver
