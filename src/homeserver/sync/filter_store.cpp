#include "homeserver/sync/filter_store.h"

#include "storage/database.h"
#include "storage/room_store.h"

namespace herald::homeserver {

Task<std::int64_t> FilterStore::add(UserId user, std::string filter_json) {
  co_return co_await db_.write([&](storage::sql::Connection& c) { return storage::room_store::insert_filter(c, user.str(), filter_json); });
}

Task<std::optional<std::string>> FilterStore::find(UserId user, std::int64_t filter_id) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return storage::room_store::find_filter(c, user.str(), filter_id); });
}

}  // namespace herald::homeserver
