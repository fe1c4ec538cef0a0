#include "storage/presence_store.h"

#include "storage/sql/connection.h"

namespace herald::storage::presence_store {
namespace {
constexpr const char* kColumns = "user_id, state, status_msg, last_active_ts, stream_ordering";

StoredPresence to_presence(const sql::Row& r) {
  return StoredPresence{r.get_text(0), r.get_text(1), r.opt_text(2), r.get_int(3), r.get_int(4)};
}
}  // namespace

void upsert(sql::Connection& c, const StoredPresence& p) {
  c.execute(
      "INSERT INTO presence (user_id, state, status_msg, last_active_ts, stream_ordering) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, status_msg = excluded.status_msg, "
      "last_active_ts = excluded.last_active_ts, stream_ordering = excluded.stream_ordering",
      {p.user_id, p.state, sql::nullable(p.status_msg), p.last_active_ts, p.stream});
}

std::optional<StoredPresence> find(sql::Connection& c, const std::string& user_id) {
  auto r = c.query_one(std::string("SELECT ") + kColumns + " FROM presence WHERE user_id = $1", {user_id});
  if (!r) return std::nullopt;
  return to_presence(*r);
}

std::vector<StoredPresence> changed_for(sql::Connection& c, const std::string& user_id, std::int64_t since, std::int64_t to) {
  std::vector<StoredPresence> out;
  for (const auto& r : c.query(std::string("SELECT ") + kColumns + " FROM presence p "
                               "WHERE p.stream_ordering > $2 AND p.stream_ordering <= $3 AND (p.user_id = $1 OR EXISTS ("
                               "SELECT 1 FROM memberships mine JOIN memberships theirs ON theirs.room_id = mine.room_id "
                               "WHERE mine.user_id = $1 AND mine.membership = 'join' AND theirs.user_id = p.user_id "
                               "AND theirs.membership = 'join')) ORDER BY p.stream_ordering",
                               {user_id, since, to}))
    out.push_back(to_presence(r));
  return out;
}

std::vector<StoredPresence> of_users(sql::Connection& c, const std::vector<std::string>& user_ids) {
  std::vector<StoredPresence> out;
  for (const auto& id : user_ids)
    if (auto p = find(c, id)) out.push_back(std::move(*p));
  return out;
}

bool share_a_room(sql::Connection& c, const std::string& a, const std::string& b) {
  return c.query_one("SELECT 1 FROM memberships mine JOIN memberships theirs ON theirs.room_id = mine.room_id "
                     "WHERE mine.user_id = $1 AND mine.membership = 'join' AND theirs.user_id = $2 "
                     "AND theirs.membership = 'join' LIMIT 1",
                     {a, b})
      .has_value();
}

std::int64_t max_stream(sql::Connection& c) {
  return c.query_one("SELECT COALESCE(MAX(stream_ordering), 0) FROM presence")->get_int(0);
}

}  // namespace herald::storage::presence_store
