#pragma once
// Identity-server accounts, their tokens (stored as SHA-256) and accepted terms. Runs inside a Database job.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage::sql {
class Connection;
}

namespace herald::identity::account_store {

void insert_token(storage::sql::Connection& c, const std::string& user_id, const std::string& token_hash, std::int64_t now_ms);
std::optional<std::string> user_of_token(storage::sql::Connection& c, const std::string& token_hash);
bool delete_token(storage::sql::Connection& c, const std::string& token_hash);
void accept_terms(storage::sql::Connection& c, const std::string& user_id, const std::vector<std::string>& urls);
std::vector<std::string> accepted_terms(storage::sql::Connection& c, const std::string& user_id);
// A setting kept in the database (the lookup pepper): the stored value, or `fresh` stored now.
std::string setting_or_insert(storage::sql::Connection& c, const std::string& name, const std::string& fresh);

}  // namespace herald::identity::account_store
