#pragma once
// End-to-end keys (client-server.md "End-to-end encryption"): the homeserver stores what clients upload
// (device, one-time, fallback and cross-signing keys, signatures), hands it out (/keys/query, /keys/claim)
// and tells clients whose device lists changed. It checks shapes, owners and self-signatures; it never
// holds a private key.
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::storage {
class Database;
namespace sql {
class Connection;
}
}  // namespace herald::storage

namespace herald::homeserver {

class Notifier;
class StreamCounter;

class KeyService {
 public:
  KeyService(storage::Database& db, StreamCounter& stream, Notifier& notifier, std::string server_name)
      : db_(db), stream_(stream), notifier_(notifier), server_name_(std::move(server_name)) {}

  // POST /keys/upload: {device_keys?, one_time_keys?, fallback_keys?} -> {one_time_key_counts}.
  Task<nlohmann::json> upload(UserId user, std::string device_id, nlohmann::json body);
  // POST /keys/query: {device_keys: {user: [device...]}} -> device_keys, cross-signing keys, failures.
  Task<nlohmann::json> query(UserId requester, nlohmann::json body);
  // POST /keys/claim: {one_time_keys: {user: {device: algorithm}}} -> one_time_keys (else fallback keys), failures.
  Task<nlohmann::json> claim(UserId requester, nlohmann::json body);
  // GET /keys/changes: {changed, left} in (from, to].
  Task<nlohmann::json> changes(UserId user, std::int64_t from, std::int64_t to);
  // POST /keys/device_signing/upload (after user-interactive auth where needed): master, self_signing,
  // user_signing keys.
  Task<void> upload_cross_signing(UserId user, nlohmann::json body);
  // Whether the user has a master key (a first upload needs no user-interactive auth).
  Task<bool> has_master_key(UserId user);
  // POST /keys/signatures/upload -> {failures}.
  Task<nlohmann::json> upload_signatures(UserId user, nlohmann::json body);
  // Deletes a device's keys and pending to-device messages and records that its user's device list
  // changed, inside the job that deletes the device (AccountService's hook); returns what wakes the
  // user's and their rooms' /sync after the commit.
  std::function<void()> delete_device_keys(storage::sql::Connection& c, const std::string& user, const std::string& device_id);
  // After a commit that changed `user`'s device list at `position`: wakes them and everyone in their rooms.
  Task<void> notify_change(std::string user, std::int64_t position);

 private:
  // Records a change of the user's device list at a new position; returns it. Inside a write job.
  std::int64_t record_change(storage::sql::Connection& c, const std::string& user);

  storage::Database& db_;
  StreamCounter& stream_;
  Notifier& notifier_;
  std::string server_name_;
};

}  // namespace herald::homeserver
