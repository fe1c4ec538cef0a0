#include "homeserver/accounts/threepids.h"

#include "storage/database.h"

namespace herald::homeserver {
namespace as = storage::account_store;

Task<std::vector<as::StoredThreepid>> Threepids::of(UserId user) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return as::threepids_of(c, user.str()); });
}

Task<void> Threepids::add(UserId user, as::StoredThreepid threepid, std::optional<std::string> id_server) {
  co_await db_.write([&](storage::sql::Connection& c) { as::add_threepid(c, user.str(), threepid, id_server); });
}

Task<std::vector<std::string>> Threepids::bound_at(UserId user, std::string medium, std::string address) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return as::threepid_id_servers(c, user.str(), medium, address); });
}

Task<void> Threepids::forget_bindings(UserId user, std::string medium, std::string address) {
  co_await db_.write([&](storage::sql::Connection& c) { as::remove_threepid(c, user.str(), medium, address, false); });
}

Task<void> Threepids::remove(UserId user, std::string medium, std::string address) {
  co_await db_.write([&](storage::sql::Connection& c) { as::remove_threepid(c, user.str(), medium, address, true); });
}

Task<bool> Threepids::in_use(std::string medium, std::string address) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return as::threepid_owner(c, medium, address).has_value(); });
}

}  // namespace herald::homeserver
