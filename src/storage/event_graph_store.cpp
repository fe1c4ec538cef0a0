#include "storage/event_graph_store.h"

#include <algorithm>
#include <functional>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "storage/sql/connection.h"

namespace herald::storage {

const char* to_string(OutsideStatus status) {
  switch (status) {
    case OutsideStatus::outlier: return "outlier";
    case OutsideStatus::rejected: return "rejected";
    case OutsideStatus::soft_failed: return "soft_failed";
  }
  return "outlier";
}

namespace event_graph_store {
namespace {
// A delta chain is cut by a snapshot once it is longer than this or a quarter of the state, whichever
// is more: reading a state then costs at most ~1.25x its size, and writing one ~4 rows per state event.
constexpr std::int64_t kMinChainBeforeSnapshot = 64;

OutsideStatus parse_status(const std::string& s) {
  if (s == "rejected") return OutsideStatus::rejected;
  if (s == "soft_failed") return OutsideStatus::soft_failed;
  return OutsideStatus::outlier;
}

// The IDs an event's PDU lists under `field` (prev_events or auth_events): strings from room version 3 on,
// [id, hashes] pairs before it. Sorted, as a set of edges has no order.
std::vector<std::string> edge_targets(sql::Connection& c, const std::string& event_id, const char* field) {
  std::vector<std::string> out;
  const auto pdu_text = find_pdu(c, event_id);
  if (!pdu_text) return out;
  const auto pdu = nlohmann::json::parse(*pdu_text, nullptr, false);
  if (!pdu.is_object()) return out;
  const auto it = pdu.find(field);
  if (it == pdu.end() || !it->is_array()) return out;
  for (const auto& ref : *it) {
    if (ref.is_string()) out.push_back(ref.get<std::string>());
    else if (ref.is_array() && !ref.empty() && ref[0].is_string()) out.push_back(ref[0].get<std::string>());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The next free state group ID: from the caller's count when it has one, else MAX + 1; the count moves on.
std::int64_t new_group_id(sql::Connection& c, std::int64_t* next_id) {
  std::int64_t id = next_id && *next_id > 0
                        ? *next_id
                        : c.query_one("SELECT COALESCE(MAX(state_group), 0) + 1 FROM state_groups")->get_int(0);
  if (next_id) *next_id = id + 1;
  return id;
}

// One entry of a state group, pointing into a state held elsewhere; no event: the key is removed.
struct EntryRef {
  const rooms::StateKey* key;
  const std::string* event_id;
};

template <typename Map>
std::vector<EntryRef> refs_of(const Map& entries) {
  std::vector<EntryRef> refs;
  refs.reserve(entries.size());
  for (const auto& [key, id] : entries) {
    if constexpr (std::is_same_v<std::decay_t<decltype(id)>, std::string>) refs.push_back({&key, &id});
    else refs.push_back({&key, id ? &*id : nullptr});
  }
  return refs;
}

// A group's entry rows, many to a statement: a snapshot has thousands. Runs of 64, 16, 4 and 1 rows keep
// the statement texts to four.
void insert_entries(sql::Connection& c, std::int64_t group, const std::vector<EntryRef>& entries) {
  auto it = entries.begin();
  std::size_t left = entries.size();
  std::vector<sql::Value> params;
  for (const std::size_t run : {64, 16, 4, 1}) {
    if (left < run) continue;
    std::string sql = "INSERT INTO state_group_entries (state_group, type, state_key, event_id) VALUES ";
    for (std::size_t i = 0; i < run; ++i) {
      const std::size_t p = 2 + 3 * i;
      sql += (i ? ", ($1, $" : "($1, $") + std::to_string(p) + ", $" + std::to_string(p + 1) + ", $" +
             std::to_string(p + 2) + ")";
    }
    for (; left >= run; left -= run) {
      params.assign(1, group);
      for (std::size_t i = 0; i < run; ++i, ++it) {
        params.emplace_back(it->key->first);
        params.emplace_back(it->key->second);
        params.push_back(it->event_id ? sql::Value(*it->event_id) : sql::Value(nullptr));
      }
      c.execute(sql, params);
    }
  }
}

std::int64_t write_snapshot(sql::Connection& c, const std::string& room_id, const std::vector<EntryRef>& state,
                            std::int64_t* next_id) {
  const std::int64_t id = new_group_id(c, next_id);
  c.execute("INSERT INTO state_groups (state_group, room_id, prev_group, delta_event_id, chain_length, state_size) "
            "VALUES ($1, $2, NULL, NULL, 0, $3)",
            {id, room_id, static_cast<std::int64_t>(state.size())});
  insert_entries(c, id, state);
  return id;
}

bool chain_too_long(const StateGroupInfo& prev) {
  return prev.chain_length + 1 > std::max(kMinChainBeforeSnapshot, prev.state_size / 4);
}
}  // namespace

std::vector<std::string> prev_events(sql::Connection& c, const std::string& event_id) {
  return edge_targets(c, event_id, "prev_events");
}

std::vector<std::string> auth_events(sql::Connection& c, const std::string& event_id) {
  return edge_targets(c, event_id, "auth_events");
}

std::vector<std::string> forward_extremities(sql::Connection& c, const std::string& room_id) {
  std::vector<std::string> out;
  for (const auto& r : c.query("SELECT event_id FROM forward_extremities WHERE room_id = $1", {room_id}))
    out.push_back(r.get_text(0));
  return out;
}

void update_forward_extremities(sql::Connection& c, const std::string& room_id, const std::vector<std::string>& replaced,
                                const std::optional<std::string>& added) {
  // The usual step of a line: one extremity gives way to the next, in one statement.
  if (replaced.size() == 1 && added &&
      c.execute("UPDATE forward_extremities SET event_id = $3 WHERE room_id = $1 AND event_id = $2",
                {room_id, replaced.front(), *added}) == 1) {
    return;
  }
  for (const auto& id : replaced)
    c.execute("DELETE FROM forward_extremities WHERE room_id = $1 AND event_id = $2", {room_id, id});
  if (added) {
    c.execute("INSERT INTO forward_extremities (room_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
              {room_id, *added});
  }
}

void add_missing_prev(sql::Connection& c, const std::string& room_id, const std::string& missing_id,
                      const std::string& referrer_id) {
  c.execute("INSERT INTO missing_prev_events (room_id, missing_id, referrer_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            {room_id, missing_id, referrer_id});
}

std::vector<std::string> take_referrers(sql::Connection& c, const std::string& event_id) {
  std::vector<std::string> out;
  for (const auto& r : c.query("SELECT referrer_id FROM missing_prev_events WHERE missing_id = $1", {event_id}))
    out.push_back(r.get_text(0));
  if (!out.empty()) c.execute("DELETE FROM missing_prev_events WHERE missing_id = $1", {event_id});
  return out;
}

std::vector<std::string> missing_prev_events(sql::Connection& c, const std::string& room_id) {
  std::vector<std::string> out;
  for (const auto& r : c.query("SELECT DISTINCT missing_id FROM missing_prev_events WHERE room_id = $1 ORDER BY missing_id",
                               {room_id}))
    out.push_back(r.get_text(0));
  return out;
}

std::optional<StateGroupInfo> state_group_info(sql::Connection& c, std::int64_t group) {
  auto r = c.query_one("SELECT chain_length, state_size FROM state_groups WHERE state_group = $1", {group});
  if (!r) return std::nullopt;
  return StateGroupInfo{group, r->get_int(0), r->get_int(1)};
}

std::int64_t add_state_delta(sql::Connection& c, const std::string& room_id, std::int64_t prev_group,
                             const rooms::StateKey& key, const std::string& event_id, bool adds_key,
                             const CachedState& prev_state) {
  return add_state_delta(c, room_id, prev_group, nullptr, key, event_id, adds_key, prev_state, nullptr).group;
}

StateGroupInfo add_state_delta(sql::Connection& c, const std::string& room_id, std::int64_t prev_group,
                               const StateGroupInfo* prev, const rooms::StateKey& key, const std::string& event_id,
                               bool adds_key, const CachedState& prev_state, std::int64_t* next_id) {
  std::optional<StateGroupInfo> read;
  if (!prev && prev_group != 0 && (read = state_group_info(c, prev_group))) prev = &*read;
  if (prev && !chain_too_long(*prev)) {
    // A plain insert: SQLite runs INSERT ... SELECT from the same table through a temporary table, several
    // times slower on this path that every state event takes.
    const StateGroupInfo group{new_group_id(c, next_id), prev->chain_length + 1, prev->state_size + (adds_key ? 1 : 0)};
    c.execute("INSERT INTO state_groups (state_group, room_id, prev_group, delta_event_id, delta_type, delta_state_key, "
              "chain_length, state_size) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
              {group.group, room_id, prev_group, event_id, key.first, key.second, group.chain_length, group.state_size});
    return group;
  }
  // A snapshot: from the caller's copy of the state when it has one (the room's cache, visited where it
  // is), which spares reading the whole chain back; the new event's key overrides or joins it.
  StateIds read_back;
  std::vector<EntryRef> state;
  bool key_seen = false;
  auto take = [&](const rooms::StateKey& k, const std::string& id) {
    const bool is_key = k == key;
    key_seen = key_seen || is_key;
    state.push_back({&k, is_key ? &event_id : &id});
  };
  if (prev_state) {
    state.reserve(prev ? static_cast<std::size_t>(prev->state_size) + 1 : 0);
    prev_state(take);
  } else {
    if (prev_group != 0) read_back = state_of_group(c, prev_group);
    for (const auto& [k, id] : read_back) take(k, id);
  }
  if (!key_seen) state.push_back({&key, &event_id});
  const std::int64_t id = write_snapshot(c, room_id, state, next_id);
  return {id, 0, static_cast<std::int64_t>(state.size())};
}

std::int64_t add_state_group(sql::Connection& c, const std::string& room_id, std::optional<std::int64_t> prev_group,
                             const StateIds& state, std::int64_t* next_id) {
  const auto prev = prev_group ? state_group_info(c, *prev_group) : std::nullopt;
  if (!prev || chain_too_long(*prev)) return write_snapshot(c, room_id, refs_of(state), next_id);
  const StateIds base = state_of_group(c, *prev_group);
  std::vector<std::pair<rooms::StateKey, std::optional<std::string>>> delta;
  for (const auto& [key, id] : state) {
    auto it = base.find(key);
    if (it == base.end() || it->second != id) delta.emplace_back(key, id);
  }
  for (const auto& [key, id] : base)
    if (!state.contains(key)) delta.emplace_back(key, std::nullopt);
  if (delta.size() > state.size() / 2) return write_snapshot(c, room_id, refs_of(state), next_id);
  const std::int64_t id = new_group_id(c, next_id);
  c.execute("INSERT INTO state_groups (state_group, room_id, prev_group, delta_event_id, chain_length, state_size) "
            "VALUES ($1, $2, $3, NULL, $4, $5)",
            {id, room_id, *prev_group, prev->chain_length + 1, static_cast<std::int64_t>(state.size())});
  insert_entries(c, id, refs_of(delta));
  return id;
}

StateIds state_of_group(sql::Connection& c, std::int64_t group) {
  // Walk from the group back to its snapshot; the nearest group's entry for a key wins. A group's own
  // key (a one-event delta) rides along the walk; wider deltas and snapshots are entry rows.
  const auto rows = c.query(
      "WITH RECURSIVE chain(state_group, prev_group, n, delta_type, delta_state_key, delta_event_id) AS ("
      "  SELECT state_group, prev_group, 0, delta_type, delta_state_key, delta_event_id FROM state_groups"
      "  WHERE state_group = $1"
      "  UNION ALL"
      "  SELECT p.state_group, p.prev_group, chain.n + 1, p.delta_type, p.delta_state_key, p.delta_event_id"
      "  FROM chain JOIN state_groups p ON p.state_group = chain.prev_group)"
      " SELECT chain.n, e.type, e.state_key, e.event_id FROM chain"
      " JOIN state_group_entries e ON e.state_group = chain.state_group"
      " UNION ALL"
      " SELECT n, delta_type, delta_state_key, delta_event_id FROM chain WHERE delta_type IS NOT NULL"
      " ORDER BY 1",
      {group});
  StateIds state;
  std::map<rooms::StateKey, bool> decided;
  for (const auto& r : rows) {
    rooms::StateKey key{r.get_text(1), r.get_text(2)};
    if (!decided.emplace(key, true).second) continue;
    if (auto id = r.opt_text(3)) state.emplace(std::move(key), std::move(*id));
  }
  return state;
}

std::optional<std::int64_t> room_state_group(sql::Connection& c, const std::string& room_id) {
  // With one extremity the current state is the state after it; rooms.current_state_group holds the
  // resolved state only while there are several (so a line of events never rewrites the rooms row).
  const auto tips = c.query("SELECT e.state_after FROM forward_extremities f JOIN events e ON e.event_id = f.event_id "
                            "WHERE f.room_id = $1 LIMIT 2",
                            {room_id});
  if (tips.size() == 1 && !tips.front().is_null(0)) return tips.front().get_int(0);
  auto r = c.query_one("SELECT current_state_group FROM rooms WHERE room_id = $1", {room_id});
  if (!r) return std::nullopt;
  return r->opt_int(0);
}

void set_room_state_group(sql::Connection& c, const std::string& room_id, std::int64_t group) {
  c.execute("UPDATE rooms SET current_state_group = $2 WHERE room_id = $1", {room_id, group});
}

void set_event_state_groups(sql::Connection& c, const std::string& event_id, const EventStateGroups& groups) {
  c.execute("UPDATE events SET state_before = $2, state_after = $3 WHERE event_id = $1",
            {event_id, groups.before, groups.after});
}

std::optional<EventStateGroups> event_state_groups(sql::Connection& c, const std::string& event_id) {
  auto r = c.query_one("SELECT state_before, state_after FROM events WHERE event_id = $1", {event_id});
  if (r && !r->is_null(0) && !r->is_null(1)) return EventStateGroups{r->get_int(0), r->get_int(1)};
  return std::nullopt;
}

void insert_outside(sql::Connection& c, const OutsideEvent& e, std::int64_t now_ms) {
  c.execute(
      "INSERT INTO events_outside_timeline (event_id, room_id, status, reason, pdu, state_before, received_ts) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO UPDATE SET status = excluded.status, "
      "reason = excluded.reason, pdu = excluded.pdu, state_before = excluded.state_before",
      {e.event_id, e.room_id, std::string(to_string(e.status)), sql::nullable(e.reason), e.pdu,
       sql::nullable(e.state_before), now_ms});
}

std::optional<OutsideEvent> find_outside(sql::Connection& c, const std::string& event_id) {
  auto r = c.query_one(
      "SELECT event_id, room_id, status, reason, pdu, state_before FROM events_outside_timeline WHERE event_id = $1",
      {event_id});
  if (!r) return std::nullopt;
  return OutsideEvent{r->get_text(0), r->get_text(1), parse_status(r->get_text(2)), r->opt_text(3), r->get_text(4),
                      r->opt_int(5)};
}

void delete_outside(sql::Connection& c, const std::string& event_id) {
  c.execute("DELETE FROM events_outside_timeline WHERE event_id = $1", {event_id});
}

std::optional<std::string> find_pdu(sql::Connection& c, const std::string& event_id) {
  if (auto r = c.query_one("SELECT pdu FROM events WHERE event_id = $1", {event_id})) return r->get_text(0);
  if (auto r = c.query_one("SELECT pdu FROM events_outside_timeline WHERE event_id = $1 AND status <> 'rejected'",
                           {event_id}))
    return r->get_text(0);
  return std::nullopt;
}

bool is_known(sql::Connection& c, const std::string& event_id) {
  return c.query_one("SELECT 1 FROM events WHERE event_id = $1", {event_id}).has_value() ||
         c.query_one("SELECT 1 FROM events_outside_timeline WHERE event_id = $1", {event_id}).has_value();
}

std::int64_t room_position(sql::Connection& c, const std::string& room_id) {
  return c.query_one("SELECT COALESCE(MAX(stream_ordering), 0) FROM events WHERE room_id = $1", {room_id})->get_int(0);
}

}  // namespace event_graph_store
}  // namespace herald::storage
