#include "app/homeserver_app.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "core/worker_pool.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/accounts/user_interactive_auth.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/rooms/room_registry.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/sync_service.h"
#include "storage/room_store.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "storage/database.h"
#include "storage/sqlite/sqlite_connection.h"

namespace herald::app {
namespace {
constexpr auto kShutdownGrace = std::chrono::seconds(10);

std::unique_ptr<storage::Database> open_database(const DatabaseConfig& c) {
  // Only app/ knows which backend the configuration picked.
  return std::make_unique<storage::Database>(storage::sqlite::connection_factory(c.path), c.readers);
}

void write_port_file(const std::filesystem::path& path, const std::vector<std::uint16_t>& ports) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (auto p : ports) out << p << "\n";
  }
  std::filesystem::rename(tmp, path);
}

void wait_for_drain(boost::asio::io_context& io, http::Server& server, std::chrono::steady_clock::time_point deadline) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(20));
  timer->async_wait([&io, &server, deadline, timer](const boost::system::error_code&) {
    if (server.active_connections() == 0 || std::chrono::steady_clock::now() >= deadline) {
      if (server.active_connections() != 0) log::warn("shutdown: {} connections still open after grace period", server.active_connections());
      io.stop();
      return;
    }
    wait_for_drain(io, server, deadline);
  });
}
}  // namespace

int run_homeserver(const HomeserverConfig& config, const RunOptions& options) {
  log::Level level = log::Level::info;
  log::parse_level(config.log_level, level);
  log::init(level);
  crypto::init();

  const crypto::SigningKey signing_key = crypto::SigningKey::load_or_create(config.signing_key_path);
  auto db = open_database(config.database);
  SystemClock clock;
  WorkerPool workers(2);
  RateLimiter limiter(config.rate_limits, clock);
  homeserver::AccountService accounts(*db, workers, clock, {.server_name = config.server_name});
  homeserver::UserInteractiveAuth uia(clock);
  http::Metrics metrics;
  http::Router router;
  homeserver::RoomRegistry registry;
  std::int64_t start_position = 0;
  db->read_sync([&](storage::sql::Connection& c) { start_position = storage::room_store::max_stream(c); });
  homeserver::Notifier notifier(start_position);
  homeserver::RoomService rooms(*db, registry, notifier, signing_key, clock,
                                {.server_name = config.server_name, .default_room_version = config.default_room_version});
  homeserver::SyncService sync(*db, registry, notifier, clock);
  homeserver::ClientApi client_api{
      .options = {.server_name = config.server_name,
                  .public_baseurl = config.public_baseurl,
                  .registration_enabled = config.registration_enabled,
                  .default_room_version = config.default_room_version},
      .accounts = accounts,
      .uia = uia,
      .limiter = limiter,
      .metrics = metrics,
      .rooms = rooms,
      .sync = sync,
      .db = *db,
      .notifier = notifier,
  };
  homeserver::add_client_routes(router, client_api);

  boost::asio::io_context io(config.io_threads);
  http::Server server(io, router, metrics,
                      {.body_limit = config.max_request_body_bytes,
                       .read_timeout = std::chrono::seconds(config.request_read_timeout_seconds)});
  std::vector<std::uint16_t> ports;
  for (const auto& l : config.listeners) {
    try {
      ports.push_back(server.listen(l.bind_address, l.port));
    } catch (const std::exception& e) {
      log::error("cannot listen on {}:{}: {}", l.bind_address, l.port, e.what());
      log::flush();
      return 1;
    }
    log::info("listening address={} port={} resources={}", l.bind_address, ports.back(), l.resources.size());
  }
  if (options.port_file) write_port_file(*options.port_file, ports);
  server.start();
  log::info("herald homeserver started server_name={} version={} signing_key={}", config.server_name, HERALD_VERSION,
            signing_key.key_id());

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("signal={} received: finishing in-flight requests", signal);
    server.stop();
    notifier.shutdown();
    wait_for_drain(io, server, std::chrono::steady_clock::now() + kShutdownGrace);
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < config.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  db->close();
  workers.stop();
  log::info("herald stopped");
  log::flush();
  return 0;
}

int register_user_offline(const HomeserverConfig& config, const std::string& username, const std::string& password,
                          bool admin) {
  log::init(log::Level::warn, false);
  crypto::init();
  auto db = open_database(config.database);
  SystemClock clock;
  WorkerPool workers(1);
  homeserver::AccountService accounts(*db, workers, clock, {.server_name = config.server_name});
  try {
    homeserver::NewAccount account;
    account.localpart = accounts.validate_new_localpart(username);
    account.password = password;
    account.inhibit_login = true;
    account.is_admin = admin;
    const auto result = accounts.register_account_sync(account);
    std::cout << "Created " << result.user_id << (admin ? " (admin)" : "") << "\n";
    return 0;
  } catch (const MatrixError& e) {
    std::cerr << "herald register-user: " << e.errcode() << ": " << e.message() << "\n";
    return 1;
  }
}

}  // namespace herald::app
