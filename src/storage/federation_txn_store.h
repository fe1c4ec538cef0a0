#pragma once
// Received federation transactions and the answers given to them (migration 0011). Functions run inside
// a Database job.
#include <cstdint>
#include <optional>
#include <string>

namespace herald::storage {

namespace sql {
class Connection;
}

namespace federation_txn_store {

// The response JSON stored for (origin, txn_id), if that transaction was handled already.
std::optional<std::string> find_response(sql::Connection& c, const std::string& origin, const std::string& txn_id);
// Remembers the answer; a second insert for the same key keeps the first answer.
void insert_response(sql::Connection& c, const std::string& origin, const std::string& txn_id,
                     const std::string& response_json, std::int64_t now_ms);

}  // namespace federation_txn_store
}  // namespace herald::storage
