#include "storage/pending_rejection_store.h"

#include <nlohmann/json.hpp>

#include "storage/sql/connection.h"

namespace herald::storage::pending_rejection_store {
namespace {
constexpr const char* kColumns = "room_id, user_id, invite_event_id, servers, queued_ts, reason";

PendingRejection row_of(const sql::Row& r) {
  PendingRejection out{r.get_text(0), r.get_text(1), r.get_text(2), {}, r.get_int(4), r.opt_text(5)};
  // Written by put() only; anything else in the column reads as no servers.
  const nlohmann::json servers = nlohmann::json::parse(r.get_text(3), nullptr, false);
  if (servers.is_array()) {
    for (const auto& s : servers) {
      if (s.is_string()) out.servers.push_back(s.get<std::string>());
    }
  }
  return out;
}
}  // namespace

void put(sql::Connection& c, const PendingRejection& row) {
  const std::string servers = nlohmann::json(row.servers).dump();
  c.execute(
      "INSERT INTO pending_rejections (room_id, user_id, invite_event_id, servers, queued_ts, reason) "
      "VALUES ($1, $2, $3, $4, $5, $6) "
      "ON CONFLICT (room_id, user_id) DO UPDATE SET invite_event_id = excluded.invite_event_id, "
      "servers = excluded.servers, queued_ts = excluded.queued_ts, reason = excluded.reason",
      {row.room_id, row.user_id, row.invite_event_id, servers, row.queued_ts, sql::nullable(row.reason)});
}

std::optional<PendingRejection> find(sql::Connection& c, const std::string& room_id, const std::string& user_id) {
  const auto r = c.query_one(std::string("SELECT ") + kColumns + " FROM pending_rejections WHERE room_id = $1 AND user_id = $2",
                             {room_id, user_id});
  if (!r) return std::nullopt;
  return row_of(*r);
}

std::vector<PendingRejection> all(sql::Connection& c) {
  std::vector<PendingRejection> out;
  for (const auto& r : c.query(std::string("SELECT ") + kColumns + " FROM pending_rejections ORDER BY queued_ts, room_id, user_id")) {
    out.push_back(row_of(r));
  }
  return out;
}

void remove(sql::Connection& c, const std::string& room_id, const std::string& user_id,
            const std::string& invite_event_id) {
  c.execute("DELETE FROM pending_rejections WHERE room_id = $1 AND user_id = $2 AND invite_event_id = $3",
            {room_id, user_id, invite_event_id});
}

}  // namespace herald::storage::pending_rejection_store
