#include "storage/federation_txn_store.h"

#include "storage/sql/connection.h"

namespace herald::storage::federation_txn_store {

std::optional<std::string> find_response(sql::Connection& c, const std::string& origin, const std::string& txn_id) {
  auto r = c.query_one("SELECT response_json FROM received_transactions WHERE origin = $1 AND txn_id = $2", {origin, txn_id});
  if (!r) return std::nullopt;
  return r->get_text(0);
}

void insert_response(sql::Connection& c, const std::string& origin, const std::string& txn_id,
                     const std::string& response_json, std::int64_t now_ms) {
  c.execute("INSERT INTO received_transactions (origin, txn_id, response_json, received_ts) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (origin, txn_id) DO NOTHING",
            {origin, txn_id, response_json, now_ms});
}

}  // namespace herald::storage::federation_txn_store
