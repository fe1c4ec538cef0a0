#include "homeserver/e2e/to_device_service.h"

#include <set>

#include "core/log.h"
#include "core/matrix_error.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/database.h"
#include "storage/sql/connection.h"
#include "storage/to_device_store.h"

namespace herald::homeserver {
namespace {
constexpr std::size_t kMaxTargets = 10'000;        // devices one request may reach
constexpr std::size_t kMaxMessageBytes = 65536;    // one message's content
}  // namespace

Task<void> ToDeviceService::send(UserId sender, std::string sender_device, std::string type, std::string txn_id,
                                 nlohmann::json messages) {
  if (type.empty() || type.size() > 255) throw MatrixError(Errc::invalid_param, "Invalid event type");
  auto all = messages.find("messages");
  if (all == messages.end() || !all->is_object()) throw MatrixError(Errc::bad_json, "'messages' must be an object");
  struct Target {
    std::string user, device, json;
  };
  std::vector<Target> targets;
  std::size_t remote = 0;
  for (const auto& [user, devices] : all->items()) {
    auto id = UserId::parse(user);
    if (!id) throw MatrixError(Errc::invalid_param, "'" + user + "' is not a user ID");
    if (!devices.is_object()) throw MatrixError(Errc::bad_json, "messages." + user + " must map device IDs to contents");
    if (id->server_name() != server_name_) {
      ++remote;  // sent over federation once it exists (issue 14)
      continue;
    }
    for (const auto& [device, content] : devices.items()) {
      if (!content.is_object()) throw MatrixError(Errc::bad_json, "messages." + user + "." + device + " must be an object");
      nlohmann::json message = {{"type", type}, {"sender", sender.str()}, {"content", content}};
      std::string text = message.dump();
      if (text.size() > kMaxMessageBytes) throw MatrixError(Errc::too_large, "A to-device message is larger than 65536 bytes");
      targets.push_back({user, device, std::move(text)});
    }
  }
  if (remote) log::info("to-device: {} remote user(s) skipped (no federation yet)", remote);
  const std::string sender_id = sender.str();
  const std::string txn_key = type + "/" + txn_id;
  std::set<std::string> woken;
  std::int64_t last = 0;
  co_await db_.write([&](storage::sql::Connection& c) {
    if (!storage::to_device_store::first_transaction(c, sender_id, sender_device, txn_key)) return;  // a retry
    std::size_t count = 0;
    for (const auto& t : targets) {
      std::vector<std::string> devices;
      if (t.device == "*") {
        for (const auto& r : c.query("SELECT device_id FROM devices WHERE user_id = $1", {t.user})) devices.push_back(r.get_text(0));
      } else if (c.query_one("SELECT 1 FROM devices WHERE user_id = $1 AND device_id = $2", {t.user, t.device})) {
        devices.push_back(t.device);  // (a message to a device that does not exist is dropped)
      }
      for (const auto& d : devices) {
        if (++count > kMaxTargets) throw MatrixError(Errc::too_large, "Too many target devices in one request");
        last = stream_.next();
        storage::to_device_store::insert(c, t.user, d, last, t.json);
        woken.insert(t.user);
      }
    }
  });
  if (!woken.empty()) notifier_.notify_users(last, {woken.begin(), woken.end()});
}

}  // namespace herald::homeserver
