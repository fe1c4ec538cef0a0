#include "identity/validation/session_store.h"

#include "storage/sql/connection.h"

namespace herald::identity::session_store {
using storage::sql::Connection;
namespace sql = storage::sql;

namespace {
constexpr std::string_view kColumns =
    "sid, medium, address, client_secret, token, send_attempt, next_link, modified_ts, validated_ts";

ValidationSession from_row(const sql::Row& r) {
  return {r.get_text(0), r.get_text(1), r.get_text(2), r.get_text(3), r.get_text(4),
          r.get_int(5),  r.opt_text(6), r.get_int(7),  r.opt_int(8)};
}
}  // namespace

std::optional<ValidationSession> find(Connection& c, const std::string& medium, const std::string& address,
                                      const std::string& client_secret) {
  auto row = c.query_one(std::string("SELECT ") + std::string(kColumns) +
                             " FROM validation_sessions WHERE medium = $1 AND address = $2 AND client_secret = $3",
                         {medium, address, client_secret});
  if (!row) return std::nullopt;
  return from_row(*row);
}

std::optional<ValidationSession> find_by_sid(Connection& c, const std::string& sid) {
  auto row = c.query_one(std::string("SELECT ") + std::string(kColumns) + " FROM validation_sessions WHERE sid = $1", {sid});
  if (!row) return std::nullopt;
  return from_row(*row);
}

void insert(Connection& c, const ValidationSession& s) {
  c.execute("INSERT INTO validation_sessions (sid, medium, address, client_secret, token, send_attempt, next_link, "
            "modified_ts, validated_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
            {s.sid, s.medium, s.address, s.client_secret, s.token, s.send_attempt, sql::nullable(s.next_link), s.modified_ts});
}

void update_send_attempt(Connection& c, const std::string& sid, std::int64_t send_attempt,
                         const std::optional<std::string>& next_link, std::int64_t now_ms) {
  c.execute("UPDATE validation_sessions SET send_attempt = $2, next_link = $3, modified_ts = $4 WHERE sid = $1",
            {sid, send_attempt, sql::nullable(next_link), now_ms});
}

void mark_validated(Connection& c, const std::string& sid, std::int64_t now_ms) {
  c.execute("UPDATE validation_sessions SET validated_ts = $2, modified_ts = $2 WHERE sid = $1", {sid, now_ms});
}

}  // namespace herald::identity::session_store
