// `herald receive-pdus`: the event pipeline's door before the federation transport exists, for
// operators repairing a room and for tests that feed a forked history signed by a second server's key.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/homeserver_app.h"
#include "app/service_host.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "homeserver/accounts/profile_cache.h"
#include "homeserver/rooms/room_registry.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/database.h"
#include "storage/sqlite/sqlite_connection.h"

namespace herald::app {

// "server,ed25519:id,base64" (a server name may hold a ':' before its port, so commas separate).
void add_trusted_key(federation::StaticServerKeyRing& ring, const std::string& spec) {
  const auto first = spec.find(',');
  const auto second = first == std::string::npos ? std::string::npos : spec.find(',', first + 1);
  if (second == std::string::npos) throw std::invalid_argument("--trust-key wants server,ed25519:id,base64: " + spec);
  const std::string server = spec.substr(0, first);
  const std::string key_id = spec.substr(first + 1, second - first - 1);
  const auto key = crypto::base64_decode(spec.substr(second + 1));
  if (!key || key->size() != 32 || key_id.rfind("ed25519:", 0) != 0) {
    throw std::invalid_argument("--trust-key: not an ed25519 public key: " + spec);
  }
  ring.add(server, key_id, *key);
}

int receive_pdus_offline(const HomeserverConfig& config, const std::string& room_id,
                         const std::vector<std::string>& trusted_keys, std::istream& in, std::ostream& out) {
  log::init(log::Level::warn, false);
  crypto::init();
  const crypto::SigningKey signing_key = crypto::SigningKey::load_or_create(config.signing_key_path);
  storage::Database db(storage::sqlite::connection_factory(config.database.path), 1, "homeserver");
  SystemClock clock;
  homeserver::RoomRegistry registry;
  homeserver::StreamCounter stream(max_stream_position(db));
  homeserver::Notifier notifier(stream.last());
  homeserver::ProfileCache profiles;
  homeserver::RoomService rooms(db, registry, notifier, stream, profiles, signing_key, clock,
                                {.server_name = config.server_name, .default_room_version = config.default_room_version});
  for (const auto& k : trusted_keys) add_trusted_key(rooms.server_keys(), k);

  std::vector<nlohmann::json> pdus;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    pdus.push_back(nlohmann::json::parse(line, nullptr, false));  // a discarded value is dropped as malformed
  }
  const auto room = RoomId::parse(room_id);
  if (!room) {
    std::cerr << "herald receive-pdus: not a room ID: " << room_id << "\n";
    return 1;
  }
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, rooms.receive(*room, std::move(pdus)), boost::asio::use_future);
  io.run();
  try {
    for (const auto& r : future.get()) {
      nlohmann::json line = {{"event_id", r.event_id}, {"outcome", homeserver::to_string(r.outcome)}};
      if (!r.reason.empty()) line["reason"] = r.reason;
      if (r.redacted) line["redacted"] = true;
      if (!r.missing_prev_events.empty()) line["missing_prev_events"] = r.missing_prev_events;
      out << line.dump() << "\n";
    }
  } catch (const MatrixError& e) {
    std::cerr << "herald receive-pdus: " << e.errcode() << ": " << e.message() << "\n";
    return 1;
  }
  db.close();
  return 0;
}

}  // namespace herald::app
