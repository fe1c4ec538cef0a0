#include "homeserver/e2e/key_backup_service.h"

#include <tuple>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "storage/database.h"
#include "storage/key_backup_store.h"
#include "storage/sql/connection.h"

namespace herald::homeserver {
namespace {
constexpr std::size_t kMaxAlgorithmBytes = 255;
constexpr std::size_t kMaxAuthDataBytes = 16 * 1024;
constexpr std::size_t kMaxSessionDataBytes = 16 * 1024;
constexpr std::size_t kMaxIdBytes = 255;
constexpr std::size_t kMaxKeysPerUpload = 2000;
constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

std::int64_t non_negative_int(const nlohmann::json& obj, const char* key) {
  const std::optional<std::int64_t> v = json_body::optional_int(obj, key);
  if (!v) throw MatrixError(Errc::missing_param, std::string("Missing '") + key + "'");
  if (*v < 0 || *v > kMaxSafeInteger) throw MatrixError(Errc::invalid_param, std::string("'") + key + "' is out of range");
  return *v;
}

std::string dumped(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict); }

// A version string names a version when it is a plain decimal number; any other text names none.
std::optional<std::int64_t> version_number(std::string_view text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::int64_t v = 0;
  for (char c : text) v = v * 10 + (c - '0');
  return v;
}

MatrixError unknown_version(std::string_view version) {
  return MatrixError(Errc::not_found, "Unknown backup version '" + std::string(version) + "'");
}

storage::RoomKeyScope store_scope(const KeyScope& s) { return storage::RoomKeyScope{s.room_id, s.session_id}; }

BackedUpKey from_stored(storage::StoredRoomKey k) {
  std::optional<nlohmann::json> data = json_body::try_parse(k.session_data);
  return BackedUpKey{std::move(k.room_id), std::move(k.session_id),
                     RoomKeyRank{k.is_verified, k.first_message_index, k.forwarded_count},
                     data ? std::move(*data) : nlohmann::json::object()};
}
}  // namespace

bool is_better_room_key(const RoomKeyRank& candidate, const RoomKeyRank& existing) {
  // Lexicographic: verified first (true sorts first), then the lower index, then the lower forward count.
  return std::make_tuple(!candidate.is_verified, candidate.first_message_index, candidate.forwarded_count) <
         std::make_tuple(!existing.is_verified, existing.first_message_index, existing.forwarded_count);
}

std::string checked_room_id(std::string room_id) {
  if (room_id.size() < 2 || room_id.front() != '!' || room_id.size() > kMaxIdBytes) {
    throw MatrixError(Errc::invalid_param, "Invalid room ID");
  }
  return room_id;
}

std::string checked_session_id(std::string session_id) {
  if (session_id.empty() || session_id.size() > kMaxIdBytes) throw MatrixError(Errc::invalid_param, "Invalid session ID");
  return session_id;
}

BackedUpKey parse_key_backup_data(const nlohmann::json& data, std::string room_id, std::string session_id) {
  if (!data.is_object()) throw MatrixError(Errc::bad_json, "Key backup data must be an object");
  BackedUpKey key;
  key.room_id = checked_room_id(std::move(room_id));
  key.session_id = checked_session_id(std::move(session_id));
  key.rank.first_message_index = non_negative_int(data, "first_message_index");
  key.rank.forwarded_count = non_negative_int(data, "forwarded_count");
  const std::optional<bool> verified = json_body::optional_bool(data, "is_verified");
  if (!verified) throw MatrixError(Errc::missing_param, "Missing 'is_verified'");
  key.rank.is_verified = *verified;
  const nlohmann::json* session_data = json_body::optional_object(data, "session_data");
  if (!session_data) throw MatrixError(Errc::missing_param, "Missing 'session_data'");
  if (dumped(*session_data).size() > kMaxSessionDataBytes) throw MatrixError(Errc::too_large, "'session_data' is too large");
  key.session_data = *session_data;
  return key;
}

std::vector<BackedUpKey> parse_room_key_backup(const nlohmann::json& body, const std::string& room_id) {
  const nlohmann::json* sessions = json_body::optional_object(body, "sessions");
  if (!sessions) throw MatrixError(Errc::missing_param, "Missing 'sessions'");
  if (sessions->size() > kMaxKeysPerUpload) throw MatrixError(Errc::too_large, "Too many keys in one request");
  std::vector<BackedUpKey> keys;
  for (const auto& [session_id, data] : sessions->items()) keys.push_back(parse_key_backup_data(data, room_id, session_id));
  return keys;
}

std::vector<BackedUpKey> parse_key_backup(const nlohmann::json& body) {
  const nlohmann::json* rooms = json_body::optional_object(body, "rooms");
  if (!rooms) throw MatrixError(Errc::missing_param, "Missing 'rooms'");
  std::vector<BackedUpKey> keys;
  for (const auto& [room_id, room] : rooms->items()) {
    if (!room.is_object()) throw MatrixError(Errc::bad_json, "Each room in 'rooms' must be an object");
    checked_room_id(room_id);  // even when it brings no sessions
    std::vector<BackedUpKey> more = parse_room_key_backup(room, room_id);
    if (keys.size() + more.size() > kMaxKeysPerUpload) throw MatrixError(Errc::too_large, "Too many keys in one request");
    for (auto& k : more) keys.push_back(std::move(k));
  }
  return keys;
}

NewBackupVersion parse_backup_version(const nlohmann::json& body) {
  NewBackupVersion v;
  v.algorithm = json_body::required_string(body, "algorithm");
  if (v.algorithm.empty() || v.algorithm.size() > kMaxAlgorithmBytes) {
    throw MatrixError(Errc::invalid_param, "Invalid 'algorithm'");
  }
  const nlohmann::json* auth_data = json_body::optional_object(body, "auth_data");
  if (!auth_data) throw MatrixError(Errc::missing_param, "Missing 'auth_data'");
  if (dumped(*auth_data).size() > kMaxAuthDataBytes) throw MatrixError(Errc::too_large, "'auth_data' is too large");
  v.auth_data = *auth_data;
  return v;
}

Task<std::string> KeyBackupService::create_version(UserId user, NewBackupVersion version) {
  const std::string user_id = user.str();
  const std::string auth_data = dumped(version.auth_data);
  const std::int64_t number = co_await db_.write([&](storage::sql::Connection& c) {
    return storage::key_backup_store::create_version(c, user_id, version.algorithm, auth_data);
  });
  co_return std::to_string(number);
}

Task<BackupVersionInfo> KeyBackupService::version_info(UserId user, std::optional<std::string> version) {
  const std::string user_id = user.str();
  const std::optional<std::int64_t> number = version ? version_number(*version) : std::nullopt;
  if (version && !number) throw unknown_version(*version);
  using Found = std::optional<std::pair<storage::StoredBackupVersion, std::int64_t>>;
  const Found found = co_await db_.read([&](storage::sql::Connection& c) -> Found {
    auto v = number ? storage::key_backup_store::find_version(c, user_id, *number)
                    : storage::key_backup_store::current_version(c, user_id);
    if (!v) return std::nullopt;
    const std::int64_t count = storage::key_backup_store::count_keys(c, user_id, v->version);
    return std::make_pair(std::move(*v), count);
  });
  if (!found) {
    if (version) throw unknown_version(*version);
    throw MatrixError(Errc::not_found, "No current backup version");
  }
  std::optional<nlohmann::json> auth_data = json_body::try_parse(found->first.auth_data);
  co_return BackupVersionInfo{std::to_string(found->first.version), found->first.algorithm,
                              auth_data ? std::move(*auth_data) : nlohmann::json::object(), found->second,
                              std::to_string(found->first.etag)};
}

Task<void> KeyBackupService::update_version(UserId user, std::string version, NewBackupVersion update) {
  const std::string user_id = user.str();
  const std::optional<std::int64_t> number = version_number(version);
  if (!number) throw unknown_version(version);
  const std::string auth_data = dumped(update.auth_data);
  co_await db_.write([&](storage::sql::Connection& c) {
    const auto stored = storage::key_backup_store::find_version(c, user_id, *number);
    if (!stored) throw unknown_version(version);
    if (stored->algorithm != update.algorithm) {
      throw MatrixError(Errc::invalid_param, "'algorithm' does not match the backup version's");
    }
    storage::key_backup_store::update_auth_data(c, user_id, *number, auth_data);
  });
}

Task<void> KeyBackupService::delete_version(UserId user, std::string version) {
  const std::string user_id = user.str();
  const std::optional<std::int64_t> number = version_number(version);
  if (!number) throw unknown_version(version);
  const bool deleted = co_await db_.write(
      [&](storage::sql::Connection& c) { return storage::key_backup_store::delete_version(c, user_id, *number); });
  if (!deleted) throw unknown_version(version);
}

Task<BackupKeysChanged> KeyBackupService::put_keys(UserId user, std::string version, std::vector<BackedUpKey> keys) {
  const std::string user_id = user.str();
  std::vector<storage::StoredRoomKey> stored_keys;
  stored_keys.reserve(keys.size());
  for (const auto& k : keys) {
    stored_keys.push_back(storage::StoredRoomKey{k.room_id, k.session_id, k.rank.first_message_index,
                                                 k.rank.forwarded_count, k.rank.is_verified, dumped(k.session_data)});
  }
  co_return co_await db_.write([&](storage::sql::Connection& c) {
    const auto current = storage::key_backup_store::current_version(c, user_id);
    if (!current) throw unknown_version(version);
    if (version_number(version) != current->version) {
      throw MatrixError(Errc::wrong_room_keys_version, "Wrong backup version: the current one is " +
                                                           std::to_string(current->version))
          .with("current_version", std::string_view(std::to_string(current->version)));
    }
    bool changed = false;
    for (const auto& k : stored_keys) {
      const auto existing = storage::key_backup_store::find_key(c, user_id, current->version, k.room_id, k.session_id);
      if (existing && !is_better_room_key({k.is_verified, k.first_message_index, k.forwarded_count},
                                          {existing->is_verified, existing->first_message_index,
                                           existing->forwarded_count})) {
        continue;
      }
      storage::key_backup_store::put_key(c, user_id, current->version, k);
      changed = true;
    }
    const std::int64_t etag =
        changed ? storage::key_backup_store::bump_etag(c, user_id, current->version) : current->etag;
    return BackupKeysChanged{storage::key_backup_store::count_keys(c, user_id, current->version), std::to_string(etag)};
  });
}

Task<std::vector<BackedUpKey>> KeyBackupService::keys(UserId user, std::string version, KeyScope scope) {
  const std::string user_id = user.str();
  const std::optional<std::int64_t> number = version_number(version);
  if (!number) throw unknown_version(version);
  const storage::RoomKeyScope where = store_scope(scope);
  auto stored = co_await db_.read([&](storage::sql::Connection& c) {
    if (!storage::key_backup_store::find_version(c, user_id, *number)) throw unknown_version(version);
    return storage::key_backup_store::keys(c, user_id, *number, where);
  });
  if (scope.session_id && stored.empty()) throw MatrixError(Errc::not_found, "No backed up key for that session");
  std::vector<BackedUpKey> out;
  out.reserve(stored.size());
  for (auto& k : stored) out.push_back(from_stored(std::move(k)));
  co_return out;
}

Task<BackupKeysChanged> KeyBackupService::delete_keys(UserId user, std::string version, KeyScope scope) {
  const std::string user_id = user.str();
  const std::optional<std::int64_t> number = version_number(version);
  if (!number) throw unknown_version(version);
  const storage::RoomKeyScope where = store_scope(scope);
  co_return co_await db_.write([&](storage::sql::Connection& c) {
    const auto stored = storage::key_backup_store::find_version(c, user_id, *number);
    if (!stored) throw unknown_version(version);
    const std::int64_t deleted = storage::key_backup_store::delete_keys(c, user_id, *number, where);
    const std::int64_t etag = deleted > 0 ? storage::key_backup_store::bump_etag(c, user_id, *number) : stored->etag;
    return BackupKeysChanged{storage::key_backup_store::count_keys(c, user_id, *number), std::to_string(etag)};
  });
}

}  // namespace herald::homeserver
