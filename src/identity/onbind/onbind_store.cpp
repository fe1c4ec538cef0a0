#include "identity/onbind/onbind_store.h"

#include <nlohmann/json.hpp>

#include "identity/invites/invite_store.h"
#include "storage/sql/connection.h"

namespace herald::identity::onbind_store {
using storage::sql::Connection;

void enqueue(Connection& c, const OnbindJob& job, std::int64_t now_ms) {
  c.execute("INSERT INTO onbind_queue (mxid, body, invite_tokens, attempts, next_attempt_ts, created_ts) "
            "VALUES ($1, $2, $3, 0, $4, $4)",
            {job.mxid, job.body, nlohmann::json(job.invite_tokens).dump(), now_ms});
}

std::vector<OnbindJob> due(Connection& c, std::int64_t now_ms, int limit) {
  std::vector<OnbindJob> out;
  for (const auto& r : c.query("SELECT id, mxid, body, invite_tokens, attempts, next_attempt_ts FROM onbind_queue "
                               "WHERE next_attempt_ts <= $1 ORDER BY next_attempt_ts, id LIMIT $2",
                               {now_ms, std::int64_t{limit}})) {
    OnbindJob j{r.get_int(0), r.get_text(1), r.get_text(2), {}, r.get_int(4), r.get_int(5)};
    j.invite_tokens = nlohmann::json::parse(r.get_text(3)).get<std::vector<std::string>>();
    out.push_back(std::move(j));
  }
  return out;
}

std::optional<std::int64_t> next_due(Connection& c) {
  auto row = c.query_one("SELECT MIN(next_attempt_ts) FROM onbind_queue");
  if (!row || row->is_null(0)) return std::nullopt;
  return row->get_int(0);
}

void reschedule(Connection& c, std::int64_t id, std::int64_t attempts, std::int64_t next_attempt_ts, const std::string& error) {
  c.execute("UPDATE onbind_queue SET attempts = $2, next_attempt_ts = $3, last_error = $4 WHERE id = $1",
            {id, attempts, next_attempt_ts, error.substr(0, 500)});
}

void complete(Connection& c, const OnbindJob& job) {
  c.execute("DELETE FROM onbind_queue WHERE id = $1", {job.id});
  invite_store::delete_tokens(c, job.invite_tokens);
}

std::int64_t count(Connection& c) { return c.query_one("SELECT COUNT(*) FROM onbind_queue")->get_int(0); }

}  // namespace herald::identity::onbind_store
