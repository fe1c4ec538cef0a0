#pragma once
// Server-side key backup (room_keys), in portable SQL: versions with their opaque auth_data, and the backed
// up session keys of each version. Functions run inside a Database job; JSON travels as text.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

struct StoredBackupVersion {
  std::int64_t version = 0;
  std::string algorithm;
  std::string auth_data;  // JSON object
  std::int64_t etag = 0;
};

struct StoredRoomKey {
  std::string room_id;
  std::string session_id;
  std::int64_t first_message_index = 0;
  std::int64_t forwarded_count = 0;
  bool is_verified = false;
  std::string session_data;  // JSON object
};

// Which keys of a version: all, one room's, or one session's.
struct RoomKeyScope {
  std::optional<std::string> room_id;
  std::optional<std::string> session_id;  // only with room_id
};

namespace key_backup_store {

// A new version, numbered after every version the user ever had (deleted ones included).
std::int64_t create_version(sql::Connection& c, const std::string& user_id, const std::string& algorithm,
                            const std::string& auth_data);
// The newest version not deleted.
std::optional<StoredBackupVersion> current_version(sql::Connection& c, const std::string& user_id);
std::optional<StoredBackupVersion> find_version(sql::Connection& c, const std::string& user_id, std::int64_t version);
void update_auth_data(sql::Connection& c, const std::string& user_id, std::int64_t version, const std::string& auth_data);
// Marks the version deleted and deletes its keys; false when there was no such (undeleted) version.
bool delete_version(sql::Connection& c, const std::string& user_id, std::int64_t version);
// Adds one to the version's etag and returns the new value.
std::int64_t bump_etag(sql::Connection& c, const std::string& user_id, std::int64_t version);

std::int64_t count_keys(sql::Connection& c, const std::string& user_id, std::int64_t version);
std::optional<StoredRoomKey> find_key(sql::Connection& c, const std::string& user_id, std::int64_t version,
                                      const std::string& room_id, const std::string& session_id);
// Inserts or replaces (the caller decides whether the new key is better).
void put_key(sql::Connection& c, const std::string& user_id, std::int64_t version, const StoredRoomKey& key);
std::vector<StoredRoomKey> keys(sql::Connection& c, const std::string& user_id, std::int64_t version,
                                const RoomKeyScope& scope);
// Returns how many keys were deleted.
std::int64_t delete_keys(sql::Connection& c, const std::string& user_id, std::int64_t version, const RoomKeyScope& scope);

}  // namespace key_backup_store
}  // namespace herald::storage
