#pragma once
// Published bindings of a 3PID to a Matrix ID (identity.md §4-5).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage::sql {
class Connection;
}

namespace herald::identity {

struct Association {
  std::string medium;
  std::string address;
  std::string mxid;
  std::int64_t ts = 0;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
};

namespace association_store {

// Replaces any earlier binding of the address.
void upsert(storage::sql::Connection& c, const Association& a, const std::string& lookup_hash);
std::optional<Association> find(storage::sql::Connection& c, const std::string& medium, const std::string& address);
// The Matrix ID bound to the address with this lookup hash.
std::optional<std::string> mxid_by_hash(storage::sql::Connection& c, const std::string& hash);
// Deletes the binding when it names mxid; false when there was none.
bool remove(storage::sql::Connection& c, const std::string& medium, const std::string& address, const std::string& mxid);

}  // namespace association_store
}  // namespace herald::identity
