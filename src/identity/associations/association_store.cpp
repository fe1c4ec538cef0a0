#include "identity/associations/association_store.h"

#include "storage/sql/connection.h"

namespace herald::identity::association_store {
using storage::sql::Connection;

void upsert(Connection& c, const Association& a, const std::string& lookup_hash) {
  c.execute("DELETE FROM associations WHERE medium = $1 AND address = $2", {a.medium, a.address});
  c.execute("INSERT INTO associations (medium, address, lookup_hash, mxid, ts, not_before, not_after) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            {a.medium, a.address, lookup_hash, a.mxid, a.ts, a.not_before, a.not_after});
}

std::optional<Association> find(Connection& c, const std::string& medium, const std::string& address) {
  auto r = c.query_one("SELECT medium, address, mxid, ts, not_before, not_after FROM associations "
                       "WHERE medium = $1 AND address = $2",
                       {medium, address});
  if (!r) return std::nullopt;
  return Association{r->get_text(0), r->get_text(1), r->get_text(2), r->get_int(3), r->get_int(4), r->get_int(5)};
}

std::optional<std::string> mxid_by_hash(Connection& c, const std::string& hash) {
  auto row = c.query_one("SELECT mxid FROM associations WHERE lookup_hash = $1", {hash});
  if (!row) return std::nullopt;
  return row->get_text(0);
}

bool remove(Connection& c, const std::string& medium, const std::string& address, const std::string& mxid) {
  return c.execute("DELETE FROM associations WHERE medium = $1 AND address = $2 AND mxid = $3", {medium, address, mxid}) > 0;
}

}  // namespace herald::identity::association_store
