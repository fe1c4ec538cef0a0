#pragma once
// Server-side key backup (client-server "Server-side key backups"): versions with their opaque auth_data and
// the session keys clients back up under the current version. The server never reads session_data; it only
// decides which of two keys for the same session to keep (is_better_room_key).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/task.h"

namespace herald::storage {
class Database;
}

namespace herald::homeserver {

// What decides between two backups of one session's key (KeyBackupData minus session_data).
struct RoomKeyRank {
  bool is_verified = false;
  std::int64_t first_message_index = 0;
  std::int64_t forwarded_count = 0;
};
// The spec's rule: a verified key beats an unverified one; then the lower first_message_index; then the
// lower forwarded_count. A key no better than the stored one does not replace it.
bool is_better_room_key(const RoomKeyRank& candidate, const RoomKeyRank& existing);

struct BackedUpKey {
  std::string room_id;
  std::string session_id;
  RoomKeyRank rank;
  nlohmann::json session_data;  // an object
};

// Body parsers (400 M_BAD_JSON / M_MISSING_PARAM / M_INVALID_PARAM naming the field; size limits included).
// KeyBackupData: {first_message_index, forwarded_count, is_verified, session_data}.
BackedUpKey parse_key_backup_data(const nlohmann::json& data, std::string room_id, std::string session_id);
// {sessions: {sessionId: KeyBackupData}} for one room.
std::vector<BackedUpKey> parse_room_key_backup(const nlohmann::json& body, const std::string& room_id);
// {rooms: {roomId: {sessions: ...}}}.
std::vector<BackedUpKey> parse_key_backup(const nlohmann::json& body);
// A room ID of a path or body: '!' sigil, at most 255 bytes; otherwise 400 M_INVALID_PARAM.
std::string checked_room_id(std::string room_id);
// A session ID of a path or body: 1-255 bytes; otherwise 400 M_INVALID_PARAM.
std::string checked_session_id(std::string session_id);

struct BackupVersionInfo {
  std::string version;
  std::string algorithm;
  nlohmann::json auth_data;
  std::int64_t count = 0;
  std::string etag;
};

struct BackupKeysChanged {
  std::int64_t count = 0;
  std::string etag;
};

struct NewBackupVersion {
  std::string algorithm;
  nlohmann::json auth_data;
};
// {algorithm, auth_data} (and for PUT an optional version that must equal the path's).
NewBackupVersion parse_backup_version(const nlohmann::json& body);

// Which keys: all of a version, one room's, or one session's.
struct KeyScope {
  std::optional<std::string> room_id;
  std::optional<std::string> session_id;
};

class KeyBackupService {
 public:
  explicit KeyBackupService(storage::Database& db) : db_(db) {}

  Task<std::string> create_version(UserId user, NewBackupVersion version);
  // The current version when `version` is nullopt. Throws 404 M_NOT_FOUND.
  Task<BackupVersionInfo> version_info(UserId user, std::optional<std::string> version);
  // Replaces auth_data; the algorithm must stay. Throws 404 M_NOT_FOUND, 400 M_INVALID_PARAM.
  Task<void> update_version(UserId user, std::string version, NewBackupVersion update);
  // Deletes the version and its keys. Throws 404 M_NOT_FOUND.
  Task<void> delete_version(UserId user, std::string version);

  // Stores the keys that are better than what the backup holds. Only the current version takes keys:
  // 404 M_NOT_FOUND without a backup, 403 M_WRONG_ROOM_KEYS_VERSION (with current_version) otherwise.
  Task<BackupKeysChanged> put_keys(UserId user, std::string version, std::vector<BackedUpKey> keys);
  // Throws 404 M_NOT_FOUND for an unknown version, and for one session's key that is not there.
  Task<std::vector<BackedUpKey>> keys(UserId user, std::string version, KeyScope scope);
  Task<BackupKeysChanged> delete_keys(UserId user, std::string version, KeyScope scope);

 private:
  storage::Database& db_;
};

}  // namespace herald::homeserver
