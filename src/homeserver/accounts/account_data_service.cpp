#include "homeserver/accounts/account_data_service.h"

#include "core/matrix_error.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/account_data_store.h"
#include "storage/database.h"

namespace herald::homeserver {
namespace ads = storage::account_data_store;
namespace {
constexpr std::size_t kMaxContentBytes = 65536;
constexpr std::size_t kMaxTypeBytes = 255;
constexpr const char* kIgnoredUserList = "m.ignored_user_list";
}  // namespace

Task<void> AccountDataService::set(UserId user, std::string room_id, std::string type, nlohmann::json content) {
  if (type.empty() || type.size() > kMaxTypeBytes) throw MatrixError(Errc::invalid_param, "Invalid account data type");
  // Kept by the server itself: clients have their own endpoints for these.
  if (type == "m.fully_read" || type == "m.push_rules") {
    throw MatrixError(Errc::bad_json, "Cannot set " + type + " through this API", 405);
  }
  if (!content.is_object()) throw MatrixError(Errc::bad_json, "Account data content must be a JSON object");
  if (type == kIgnoredUserList && room_id.empty()) {
    auto ignored = content.find("ignored_users");
    if (ignored == content.end() || !ignored->is_object()) {
      throw MatrixError(Errc::bad_json, "m.ignored_user_list needs an 'ignored_users' object");
    }
    for (const auto& [id, _] : ignored->items()) {
      if (!UserId::parse(id)) throw MatrixError(Errc::invalid_param, "'" + id + "' in ignored_users is not a user ID");
    }
  }
  const std::string text = content.dump();
  if (text.size() > kMaxContentBytes) throw MatrixError(Errc::too_large, "Account data is larger than 65536 bytes");
  const std::string user_id = user.str();
  const std::int64_t position = co_await db_.write([&](storage::sql::Connection& c) {
    const std::int64_t p = stream_.next();
    ads::upsert(c, user_id, room_id, type, text, p);
    return p;
  });
  notifier_.notify_users(position, {user_id});
}

Task<std::optional<nlohmann::json>> AccountDataService::get(UserId user, std::string room_id, std::string type) {
  const std::string user_id = user.str();
  auto text = co_await db_.read([&](storage::sql::Connection& c) { return ads::find(c, user_id, room_id, type); });
  if (!text) co_return std::nullopt;
  co_return nlohmann::json::parse(*text);
}

std::set<std::string> ignored_users(storage::sql::Connection& c, const std::string& user) {
  std::set<std::string> out;
  auto text = ads::find(c, user, "", kIgnoredUserList);
  if (!text) return out;
  const nlohmann::json content = nlohmann::json::parse(*text, nullptr, false);
  if (!content.is_object()) return out;
  auto ignored = content.find("ignored_users");
  if (ignored == content.end() || !ignored->is_object()) return out;
  for (const auto& [id, _] : ignored->items()) out.insert(id);
  return out;
}

}  // namespace herald::homeserver
