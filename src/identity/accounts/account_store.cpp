#include "identity/accounts/account_store.h"

#include "storage/sql/connection.h"

namespace herald::identity::account_store {
using storage::sql::Connection;

void insert_token(Connection& c, const std::string& user_id, const std::string& token_hash, std::int64_t now_ms) {
  c.execute("INSERT INTO accounts (user_id, created_ts) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING", {user_id, now_ms});
  c.execute("INSERT INTO account_tokens (token_hash, user_id, created_ts) VALUES ($1, $2, $3)", {token_hash, user_id, now_ms});
}

std::optional<std::string> user_of_token(Connection& c, const std::string& token_hash) {
  auto row = c.query_one("SELECT user_id FROM account_tokens WHERE token_hash = $1", {token_hash});
  if (!row) return std::nullopt;
  return row->get_text(0);
}

bool delete_token(Connection& c, const std::string& token_hash) {
  return c.execute("DELETE FROM account_tokens WHERE token_hash = $1", {token_hash}) > 0;
}

void accept_terms(Connection& c, const std::string& user_id, const std::vector<std::string>& urls) {
  for (const auto& url : urls) {
    c.execute("INSERT INTO accepted_terms (user_id, url) VALUES ($1, $2) ON CONFLICT (user_id, url) DO NOTHING", {user_id, url});
  }
}

std::vector<std::string> accepted_terms(Connection& c, const std::string& user_id) {
  std::vector<std::string> out;
  for (const auto& row : c.query("SELECT url FROM accepted_terms WHERE user_id = $1", {user_id})) out.push_back(row.get_text(0));
  return out;
}

std::string setting_or_insert(Connection& c, const std::string& name, const std::string& fresh) {
  c.execute("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", {name, fresh});
  return c.query_one("SELECT value FROM settings WHERE name = $1", {name})->get_text(0);
}

}  // namespace herald::identity::account_store
