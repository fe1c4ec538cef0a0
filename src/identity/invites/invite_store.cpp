#include "identity/invites/invite_store.h"

#include "storage/sql/connection.h"

namespace herald::identity::invite_store {
using storage::sql::Connection;

namespace {
constexpr std::string_view kColumns = "token, medium, address, room_id, sender, ephemeral_public_key, received_ts";
StoredInvite from_row(const storage::sql::Row& r) {
  return {r.get_text(0), r.get_text(1), r.get_text(2), r.get_text(3), r.get_text(4), r.get_text(5), r.get_int(6)};
}
}  // namespace

void insert(Connection& c, const StoredInvite& i) {
  c.execute("INSERT INTO invites (token, medium, address, room_id, sender, ephemeral_public_key, received_ts, sent_ts) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
            {i.token, i.medium, i.address, i.room_id, i.sender, i.ephemeral_public_key, i.received_ts});
  c.execute("INSERT INTO ephemeral_keys (public_key, created_ts) VALUES ($1, $2)", {i.ephemeral_public_key, i.received_ts});
}

void remove(Connection& c, const std::string& token) {
  auto row = c.query_one("SELECT ephemeral_public_key FROM invites WHERE token = $1", {token});
  if (!row) return;
  c.execute("DELETE FROM ephemeral_keys WHERE public_key = $1", {row->get_text(0)});
  c.execute("DELETE FROM invites WHERE token = $1", {token});
}

std::optional<StoredInvite> find(Connection& c, const std::string& token) {
  auto row = c.query_one(std::string("SELECT ") + std::string(kColumns) + " FROM invites WHERE token = $1", {token});
  if (!row) return std::nullopt;
  return from_row(*row);
}

std::vector<StoredInvite> take_pending(Connection& c, const std::string& medium, const std::string& address,
                                       std::int64_t now_ms) {
  std::vector<StoredInvite> out;
  for (const auto& r : c.query(std::string("SELECT ") + std::string(kColumns) +
                                   " FROM invites WHERE medium = $1 AND address = $2 AND sent_ts IS NULL ORDER BY received_ts",
                               {medium, address})) {
    out.push_back(from_row(r));
  }
  c.execute("UPDATE invites SET sent_ts = $3 WHERE medium = $1 AND address = $2 AND sent_ts IS NULL", {medium, address, now_ms});
  return out;
}

void delete_tokens(Connection& c, const std::vector<std::string>& tokens) {
  // Ephemeral keys stay valid: rooms keep the third-party invite event that names them.
  for (const auto& t : tokens) c.execute("DELETE FROM invites WHERE token = $1", {t});
}

bool ephemeral_key_exists(Connection& c, const std::string& public_key) {
  return c.query_one("SELECT 1 FROM ephemeral_keys WHERE public_key = $1", {public_key}).has_value();
}

}  // namespace herald::identity::invite_store
