#pragma once
// Send-to-device messaging (client-server.md "Send-to-Device messaging"): messages to one device or to
// all of a user's devices ("*"), idempotent per sending device and transaction ID, kept until the target
// device's next /sync acknowledges them.
#include <string>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::storage {
class Database;
}

namespace herald::homeserver {

class Notifier;
class StreamCounter;

class ToDeviceService {
 public:
  ToDeviceService(storage::Database& db, StreamCounter& stream, Notifier& notifier, std::string server_name)
      : db_(db), stream_(stream), notifier_(notifier), server_name_(std::move(server_name)) {}

  // messages: {user: {device or "*": content}}.
  Task<void> send(UserId sender, std::string sender_device, std::string type, std::string txn_id, nlohmann::json messages);

 private:
  storage::Database& db_;
  StreamCounter& stream_;
  Notifier& notifier_;
  std::string server_name_;
};

}  // namespace herald::homeserver
