#include "storage/account_data_store.h"

#include "storage/sql/connection.h"

namespace herald::storage::account_data_store {

void upsert(sql::Connection& c, const std::string& user_id, const std::string& room_id, const std::string& type,
            const std::string& content, std::int64_t stream) {
  c.execute(
      "INSERT INTO account_data (user_id, room_id, type, content, stream_ordering) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, "
      "stream_ordering = excluded.stream_ordering",
      {user_id, room_id, type, content, stream});
}

std::optional<std::string> find(sql::Connection& c, const std::string& user_id, const std::string& room_id,
                                const std::string& type) {
  auto r = c.query_one("SELECT content FROM account_data WHERE user_id = $1 AND room_id = $2 AND type = $3",
                       {user_id, room_id, type});
  if (!r) return std::nullopt;
  return r->get_text(0);
}

std::vector<StoredAccountData> changed(sql::Connection& c, const std::string& user_id, std::int64_t since, std::int64_t to) {
  std::vector<StoredAccountData> out;
  for (const auto& r : c.query("SELECT room_id, type, content, stream_ordering FROM account_data "
                               "WHERE user_id = $1 AND stream_ordering > $2 AND stream_ordering <= $3 "
                               "ORDER BY stream_ordering",
                               {user_id, since, to}))
    out.push_back(StoredAccountData{r.get_text(0), r.get_text(1), r.get_text(2), r.get_int(3)});
  return out;
}

std::int64_t max_stream(sql::Connection& c) {
  return c.query_one("SELECT COALESCE(MAX(stream_ordering), 0) FROM account_data")->get_int(0);
}

}  // namespace herald::storage::account_data_store
