#include "storage/room_store.h"

#include <algorithm>
#include <set>
#include <nlohmann/json.hpp>

#include "storage/sql/connection.h"

namespace herald::storage::room_store {
namespace {
constexpr const char* kEventColumns = "stream_ordering, event_id, room_id, pdu, unsigned_json, redacted_by";
constexpr const char* kEventColumnsOfE = "e.stream_ordering, e.event_id, e.room_id, e.pdu, e.unsigned_json, e.redacted_by";
// Joined to `events e`: the latest state event of each key below position $2 in room $1 (by stream order,
// which is the state there for a linear history).
constexpr const char* kLatestStateBelow =
    "(SELECT MAX(stream_ordering) AS s FROM events WHERE room_id = $1 AND state_key IS NOT NULL "
    "AND stream_ordering < $2 GROUP BY type, state_key) m ON e.stream_ordering = m.s";

StoredEvent to_event(const sql::Row& r) {
  return StoredEvent{r.get_int(0), r.get_text(1), r.get_text(2), r.get_text(3), r.opt_text(4), r.opt_text(5)};
}
std::vector<StoredEvent> to_events(const std::vector<sql::Row>& rows) {
  std::vector<StoredEvent> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(to_event(r));
  return out;
}
StoredRoom to_room(const sql::Row& r) { return StoredRoom{r.get_text(0), r.get_text(1), r.get_text(2), r.get_int(3) != 0}; }
}  // namespace

void insert_room(sql::Connection& c, const StoredRoom& room, std::int64_t now_ms) {
  c.execute("INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) VALUES ($1, $2, $3, $4, $5)",
            {room.room_id, room.room_version, room.creator, std::int64_t{room.is_public ? 1 : 0}, now_ms});
}

std::optional<StoredRoom> find_room(sql::Connection& c, const std::string& room_id) {
  auto r = c.query_one("SELECT room_id, room_version, creator, is_public FROM rooms WHERE room_id = $1", {room_id});
  if (!r) return std::nullopt;
  return to_room(*r);
}

void set_room_public(sql::Connection& c, const std::string& room_id, bool is_public) {
  c.execute("UPDATE rooms SET is_public = $2 WHERE room_id = $1", {room_id, std::int64_t{is_public ? 1 : 0}});
}

std::vector<StoredRoom> public_rooms(sql::Connection& c, std::int64_t limit, std::int64_t offset) {
  std::vector<StoredRoom> out;
  for (const auto& r : c.query("SELECT room_id, room_version, creator, is_public FROM rooms WHERE is_public = 1 "
                               "ORDER BY created_ts, room_id LIMIT $1 OFFSET $2",
                               {limit, offset}))
    out.push_back(to_room(r));
  return out;
}

std::int64_t count_public_rooms(sql::Connection& c) {
  return c.query_one("SELECT COUNT(*) FROM rooms WHERE is_public = 1")->get_int(0);
}

void set_membership_outside_timeline(sql::Connection& c, const std::string& room_id, const std::string& user_id,
                                     const std::string& membership, const std::string& event_id, std::int64_t stream) {
  c.execute(
      "INSERT INTO memberships (room_id, user_id, membership, event_id, stream_ordering, forgotten) "
      "VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (room_id, user_id) DO UPDATE SET "
      "membership = excluded.membership, event_id = excluded.event_id, "
      "stream_ordering = excluded.stream_ordering, forgotten = 0",
      {room_id, user_id, membership, event_id, stream});
}

std::int64_t max_membership_stream(sql::Connection& c) {
  return c.query_one("SELECT COALESCE(MAX(stream_ordering), 0) FROM memberships")->get_int(0);
}

std::int64_t max_stream(sql::Connection& c) {
  return c.query_one("SELECT COALESCE(MAX(stream_ordering), 0) FROM events")->get_int(0);
}

void insert_event_row(sql::Connection& c, const NewEventRow& row, const std::optional<EventStateGroups>& state) {
  c.execute(
      "INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, membership, pdu, unsigned_json, "
      "state_before, state_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      {row.stream, row.event_id, row.room_id, row.type, sql::nullable(row.state_key), row.sender,
       sql::nullable(row.membership), row.pdu, sql::nullable(row.unsigned_json),
       state ? sql::Value(state->before) : sql::Value(nullptr), state ? sql::Value(state->after) : sql::Value(nullptr)});
}

void insert_state_only_row(sql::Connection& c, const NewEventRow& row) {
  c.execute(
      "INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, membership, pdu, unsigned_json, "
      "in_timeline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0)",
      {row.stream, row.event_id, row.room_id, row.type, sql::nullable(row.state_key), row.sender,
       sql::nullable(row.membership), row.pdu, sql::nullable(row.unsigned_json)});
}

void apply_to_current_state(sql::Connection& c, const NewEventRow& row) {
  if (!row.state_key) return;
  // A member's current state is its memberships row; all other current state is in current_state.
  if (row.type == "m.room.member" && row.membership) {
    c.execute(
        "INSERT INTO memberships (room_id, user_id, membership, event_id, stream_ordering, forgotten) "
        "VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (room_id, user_id) DO UPDATE SET "
        "membership = excluded.membership, event_id = excluded.event_id, "
        "stream_ordering = excluded.stream_ordering, forgotten = 0",
        {row.room_id, *row.state_key, *row.membership, row.event_id, row.stream});
    return;
  }
  c.execute(
      "INSERT INTO current_state (room_id, type, state_key, event_id) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id",
      {row.room_id, row.type, *row.state_key, row.event_id});
}

void set_current_state_entry(sql::Connection& c, const std::string& room_id, const rooms::StateKey& key,
                             const std::optional<std::string>& event_id) {
  const bool member = key.first == "m.room.member";
  if (!event_id) {
    if (member) c.execute("DELETE FROM memberships WHERE room_id = $1 AND user_id = $2", {room_id, key.second});
    else c.execute("DELETE FROM current_state WHERE room_id = $1 AND type = $2 AND state_key = $3", {room_id, key.first, key.second});
    return;
  }
  auto r = c.query_one("SELECT stream_ordering, membership, sender FROM events WHERE event_id = $1", {*event_id});
  if (!r) return;  // only timeline events are current state
  apply_to_current_state(c, NewEventRow{r->get_int(0), *event_id, room_id, key.first, key.second, r->get_text(2),
                                        r->opt_text(1), std::string(), std::nullopt});
}

void insert_event(sql::Connection& c, const NewEventRow& row) {
  insert_event_row(c, row, std::nullopt);
  apply_to_current_state(c, row);
}

StateIds state_ids_before(sql::Connection& c, const std::string& room_id, std::int64_t before) {
  StateIds out;
  for (const auto& r : c.query(std::string("SELECT e.type, e.state_key, e.event_id FROM events e JOIN ") + kLatestStateBelow,
                               {room_id, before}))
    out.emplace(rooms::StateKey{r.get_text(0), r.get_text(1)}, r.get_text(2));
  return out;
}

void mark_redacted(sql::Connection& c, const std::string& event_id, const std::string& redaction_id) {
  c.execute("UPDATE events SET redacted_by = $2 WHERE event_id = $1 AND redacted_by IS NULL", {event_id, redaction_id});
}

std::vector<StoredEvent> current_state(sql::Connection& c, const std::string& room_id) {
  return to_events(c.query(
      "SELECT e.stream_ordering, e.event_id, e.room_id, e.pdu, e.unsigned_json, e.redacted_by FROM "
      "(SELECT event_id FROM current_state WHERE room_id = $1 UNION ALL SELECT event_id FROM memberships WHERE room_id = $1) s "
      "JOIN events e ON e.event_id = s.event_id ORDER BY e.stream_ordering",
      {room_id}));
}

namespace {
std::vector<StoredEvent> linear_state_before(sql::Connection& c, const std::string& room_id, std::int64_t before) {
  return to_events(c.query(std::string("SELECT ") + kEventColumnsOfE + " FROM events e JOIN " + kLatestStateBelow +
                               " ORDER BY e.stream_ordering",
                           {room_id, before}));
}

// Where stream position `before` falls in a room: past its newest event, or just before an event that
// carries its state group (none for events stored before the graph existed).
struct StateAt {
  bool past_newest = false;
  std::optional<std::int64_t> group;
};
StateAt state_at(sql::Connection& c, const std::string& room_id, std::int64_t before) {
  auto next = c.query_one("SELECT state_before FROM events WHERE room_id = $1 AND stream_ordering >= $2 AND in_timeline = 1 "
                          "ORDER BY stream_ordering LIMIT 1",
                          {room_id, before});
  if (!next) return {true, std::nullopt};
  return {false, next->opt_int(0)};
}

// The stored timeline events with these IDs, in stream order.
std::vector<StoredEvent> events_with_ids(sql::Connection& c, const StateIds& ids) {
  constexpr std::size_t kChunk = 400;
  std::vector<StoredEvent> out;
  std::vector<sql::Value> params;
  std::string sql;
  auto flush = [&] {
    if (params.empty()) return;
    sql.pop_back();  // the last comma
    for (auto& e : to_events(c.query(std::string("SELECT ") + kEventColumns + " FROM events WHERE event_id IN (" + sql + ")", params)))
      out.push_back(std::move(e));
    params.clear();
    sql.clear();
  };
  for (const auto& [key, id] : ids) {
    params.emplace_back(id);
    sql += "$" + std::to_string(params.size()) + ",";
    if (params.size() == kChunk) flush();
  }
  flush();
  std::sort(out.begin(), out.end(), [](const StoredEvent& a, const StoredEvent& b) { return a.stream < b.stream; });
  return out;
}
}  // namespace

std::vector<StoredEvent> state_before(sql::Connection& c, const std::string& room_id, std::int64_t before) {
  // The state group stored with the first event at or after `before` says what the state was there.
  const StateAt at = state_at(c, room_id, before);
  if (at.past_newest) return current_state(c, room_id);
  if (at.group) return events_with_ids(c, event_graph_store::state_of_group(c, *at.group));
  return linear_state_before(c, room_id, before);
}

std::vector<StoredEvent> state_before_changed_since(sql::Connection& c, const std::string& room_id, std::int64_t before,
                                                   std::int64_t since) {
  // Only events written after `since` can be news; there are few of them, so look those up in the state
  // rather than reading the whole state.
  std::set<std::string> written;
  for (const auto& r : c.query("SELECT event_id FROM events WHERE room_id = $1 AND stream_ordering > $2 "
                               "AND stream_ordering < $3 AND state_key IS NOT NULL",
                               {room_id, since, before}))
    written.insert(r.get_text(0));
  if (written.empty()) return {};
  const StateAt at = state_at(c, room_id, before);
  const std::optional<std::int64_t> group = at.past_newest ? event_graph_store::room_state_group(c, room_id) : at.group;
  std::vector<StoredEvent> out;
  if (!group) {
    for (auto& e : at.past_newest ? current_state(c, room_id) : linear_state_before(c, room_id, before))
      if (e.stream > since) out.push_back(std::move(e));
    return out;
  }
  StateIds news;
  for (const auto& [key, id] : event_graph_store::state_of_group(c, *group))
    if (written.contains(id)) news.emplace(key, id);
  return events_with_ids(c, news);
}

std::optional<StoredEvent> find_event(sql::Connection& c, const std::string& event_id) {
  auto r = c.query_one(std::string("SELECT ") + kEventColumns + " FROM events WHERE event_id = $1", {event_id});
  if (!r) return std::nullopt;
  return to_event(*r);
}

std::vector<StoredEvent> events_between(sql::Connection& c, const std::string& room_id, std::int64_t from,
                                        std::int64_t to, std::int64_t limit, bool newest_first) {
  const std::string sql = std::string("SELECT ") + kEventColumns +
                          " FROM events WHERE room_id = $1 AND stream_ordering > $2 AND stream_ordering <= $3 AND in_timeline = 1 "
                          "ORDER BY stream_ordering " +
                          (newest_first ? "DESC" : "ASC") + " LIMIT $4";
  return to_events(c.query(sql, {room_id, from, to, limit}));
}

rooms::HistoryVisibility history_visibility_for(sql::Connection& c, const std::string& room_id, const std::string& user_id,
                                                const std::string& current_membership) {
  rooms::Timeline visibility, membership;
  for (const auto& r : c.query("SELECT stream_ordering, pdu FROM events WHERE room_id = $1 AND type = 'm.room.history_visibility' "
                               "AND state_key = '' ORDER BY stream_ordering",
                               {room_id})) {
    const auto pdu = nlohmann::json::parse(r.get_text(1), nullptr, false);
    std::string value = "shared";
    if (pdu.is_object() && pdu.contains("content") && pdu["content"].is_object()) {
      value = pdu["content"].value("history_visibility", "shared");
    }
    visibility.emplace_back(r.get_int(0), value);
  }
  for (const auto& r : c.query("SELECT stream_ordering, membership FROM events WHERE room_id = $1 AND type = 'm.room.member' "
                               "AND state_key = $2 ORDER BY stream_ordering",
                               {room_id, user_id}))
    membership.emplace_back(r.get_int(0), r.get_text(1));
  return rooms::HistoryVisibility(std::move(visibility), std::move(membership), current_membership);
}

std::vector<StoredMembership> memberships_of(sql::Connection& c, const std::string& user_id) {
  std::vector<StoredMembership> out;
  for (const auto& r : c.query("SELECT room_id, membership, event_id, stream_ordering, forgotten FROM memberships "
                               "WHERE user_id = $1",
                               {user_id}))
    out.push_back({r.get_text(0), r.get_text(1), r.get_text(2), r.get_int(3), r.get_int(4) != 0});
  return out;
}

std::optional<StoredMembership> membership(sql::Connection& c, const std::string& room_id, const std::string& user_id) {
  auto r = c.query_one("SELECT room_id, membership, event_id, stream_ordering, forgotten FROM memberships "
                       "WHERE room_id = $1 AND user_id = $2",
                       {room_id, user_id});
  if (!r) return std::nullopt;
  return StoredMembership{r->get_text(0), r->get_text(1), r->get_text(2), r->get_int(3), r->get_int(4) != 0};
}

bool has_joined_local_user(sql::Connection& c, const std::string& room_id) {
  return c
      .query_one("SELECT 1 FROM memberships m JOIN users u ON u.user_id = m.user_id "
                 "WHERE m.room_id = $1 AND m.membership = 'join' LIMIT 1",
                 {room_id})
      .has_value();
}

std::string membership_at(sql::Connection& c, const std::string& room_id, const std::string& user_id, std::int64_t at) {
  auto r = c.query_one(
      "SELECT membership FROM events WHERE room_id = $1 AND type = 'm.room.member' AND state_key = $2 "
      "AND stream_ordering <= $3 ORDER BY stream_ordering DESC LIMIT 1",
      {room_id, user_id, at});
  return r && !r->is_null(0) ? r->get_text(0) : "leave";
}

void set_forgotten(sql::Connection& c, const std::string& room_id, const std::string& user_id) {
  c.execute("UPDATE memberships SET forgotten = 1 WHERE room_id = $1 AND user_id = $2", {room_id, user_id});
}

bool insert_alias(sql::Connection& c, const std::string& alias, const std::string& room_id, const std::string& creator) {
  return c.execute("INSERT INTO room_aliases (alias, room_id, creator) VALUES ($1, $2, $3) ON CONFLICT (alias) DO NOTHING",
                   {alias, room_id, creator}) == 1;
}

std::optional<std::string> alias_room(sql::Connection& c, const std::string& alias) {
  auto r = c.query_one("SELECT room_id FROM room_aliases WHERE alias = $1", {alias});
  if (!r) return std::nullopt;
  return r->get_text(0);
}

std::optional<std::string> alias_creator(sql::Connection& c, const std::string& alias) {
  auto r = c.query_one("SELECT creator FROM room_aliases WHERE alias = $1", {alias});
  if (!r) return std::nullopt;
  return r->get_text(0);
}

bool delete_alias(sql::Connection& c, const std::string& alias) {
  return c.execute("DELETE FROM room_aliases WHERE alias = $1", {alias}) == 1;
}

std::vector<std::string> aliases_of(sql::Connection& c, const std::string& room_id) {
  std::vector<std::string> out;
  for (const auto& r : c.query("SELECT alias FROM room_aliases WHERE room_id = $1 ORDER BY alias", {room_id}))
    out.push_back(r.get_text(0));
  return out;
}

std::optional<std::string> transaction_event(sql::Connection& c, const std::string& user_id, const std::string& device_id,
                                             const std::string& txn_key) {
  auto r = c.query_one("SELECT event_id FROM event_transactions WHERE user_id = $1 AND device_id = $2 AND txn_key = $3",
                       {user_id, device_id, txn_key});
  if (!r) return std::nullopt;
  return r->get_text(0);
}

void insert_transaction(sql::Connection& c, const std::string& user_id, const std::string& device_id,
                        const std::string& txn_key, const std::string& event_id) {
  c.execute("INSERT INTO event_transactions (user_id, device_id, txn_key, event_id) VALUES ($1, $2, $3, $4)",
            {user_id, device_id, txn_key, event_id});
}

std::int64_t insert_filter(sql::Connection& c, const std::string& user_id, const std::string& filter_json) {
  const std::int64_t id =
      c.query_one("SELECT COALESCE(MAX(filter_id), -1) + 1 FROM filters WHERE user_id = $1", {user_id})->get_int(0);
  c.execute("INSERT INTO filters (user_id, filter_id, filter_json) VALUES ($1, $2, $3)", {user_id, id, filter_json});
  return id;
}

std::optional<std::string> find_filter(sql::Connection& c, const std::string& user_id, std::int64_t filter_id) {
  auto r = c.query_one("SELECT filter_json FROM filters WHERE user_id = $1 AND filter_id = $2", {user_id, filter_id});
  if (!r) return std::nullopt;
  return r->get_text(0);
}

}  // namespace herald::storage::room_store
