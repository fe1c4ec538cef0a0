#include "storage/to_device_store.h"

#include "storage/sql/connection.h"

namespace herald::storage::to_device_store {

void insert(sql::Connection& c, const std::string& user, const std::string& device, std::int64_t stream,
            const std::string& message_json) {
  c.execute("INSERT INTO to_device_messages (user_id, device_id, stream_ordering, message_json) VALUES ($1, $2, $3, $4)",
            {user, device, stream, message_json});
}

std::vector<StoredToDevice> pending(sql::Connection& c, const std::string& user, const std::string& device,
                                    std::int64_t since, std::int64_t to, std::int64_t limit) {
  std::vector<StoredToDevice> out;
  for (const auto& r : c.query("SELECT stream_ordering, message_json FROM to_device_messages WHERE user_id = $1 "
                               "AND device_id = $2 AND stream_ordering > $3 AND stream_ordering <= $4 "
                               "ORDER BY stream_ordering LIMIT $5",
                               {user, device, since, to, limit}))
    out.push_back({r.get_int(0), r.get_text(1)});
  return out;
}

void delete_up_to(sql::Connection& c, const std::string& user, const std::string& device, std::int64_t stream) {
  c.execute("DELETE FROM to_device_messages WHERE user_id = $1 AND device_id = $2 AND stream_ordering <= $3",
            {user, device, stream});
}

void delete_device(sql::Connection& c, const std::string& user, const std::string& device) {
  c.execute("DELETE FROM to_device_messages WHERE user_id = $1 AND device_id = $2", {user, device});
  c.execute("DELETE FROM to_device_transactions WHERE user_id = $1 AND device_id = $2", {user, device});
}

std::int64_t max_stream(sql::Connection& c) {
  return c.query_one("SELECT COALESCE(MAX(stream_ordering), 0) FROM to_device_messages")->get_int(0);
}

bool first_transaction(sql::Connection& c, const std::string& user, const std::string& device, const std::string& txn_key) {
  if (c.query_one("SELECT 1 FROM to_device_transactions WHERE user_id = $1 AND device_id = $2 AND txn_key = $3",
                  {user, device, txn_key}))
    return false;
  c.execute("INSERT INTO to_device_transactions (user_id, device_id, txn_key) VALUES ($1, $2, $3)", {user, device, txn_key});
  return true;
}

}  // namespace herald::storage::to_device_store
