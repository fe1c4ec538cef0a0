// The runner: builds the hosts the command asked for, drives them on one io_context (plus one thread for
// outbound calls), and on SIGINT/SIGTERM lets in-flight requests finish before closing storage.
#include "app/homeserver_app.h"

#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include "app/service_host.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "core/worker_pool.h"
#include "http/server.h"
#include "crypto/random.h"
#include "homeserver/accounts/account_service.h"
#include "storage/database.h"
#include "storage/sqlite/sqlite_connection.h"

namespace herald::app {
namespace {
constexpr auto kShutdownGrace = std::chrono::seconds(10);

void write_port_file(const std::filesystem::path& path, const std::vector<std::uint16_t>& ports) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (auto p : ports) out << p << "\n";
  }
  std::filesystem::rename(tmp, path);
}

using Hosts = std::vector<std::unique_ptr<ServiceHost>>;

std::size_t active_connections(const Hosts& hosts) {
  std::size_t n = 0;
  for (const auto& h : hosts) n += h->active_connections();
  return n;
}

void wait_for_drain(boost::asio::io_context& io, const Hosts& hosts, std::chrono::steady_clock::time_point deadline) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(20));
  timer->async_wait([&io, &hosts, deadline, timer](const boost::system::error_code&) {
    const std::size_t open = active_connections(hosts);
    if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
      if (open != 0) log::warn("shutdown: {} connections still open after grace period", open);
      io.stop();
      return;
    }
    wait_for_drain(io, hosts, deadline);
  });
}

struct HostFactories {
  const HomeserverConfig* homeserver = nullptr;
  const IdentityConfig* identity = nullptr;
};

// Every connection costs a descriptor: take all the open-file limit allows (soft up to hard).
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0) log::info("open-file limit raised from {} to {}", before, limit.rlim_cur);
}

int run(const HostFactories& what, const std::string& log_level, int io_threads, const RunOptions& options) {
  log::Level level = log::Level::info;
  log::parse_level(log_level, level);
  log::init(level);
  crypto::init();
  raise_open_file_limit();

  boost::asio::io_context io(io_threads);
  boost::asio::io_context outbound(1);
  auto outbound_work = boost::asio::make_work_guard(outbound);
  std::thread outbound_thread([&outbound] { outbound.run(); });
  auto stop_outbound = [&] {
    outbound_work.reset();
    outbound.stop();
    if (outbound_thread.joinable()) outbound_thread.join();
  };

  Hosts hosts;
  std::vector<std::uint16_t> ports;
  try {
    if (what.homeserver) hosts.push_back(make_homeserver_host(*what.homeserver, io, outbound));
    if (what.identity) hosts.push_back(make_identity_host(*what.identity, io, outbound));
    for (auto& h : hosts) {
      const auto bound = h->listen();
      ports.insert(ports.end(), bound.begin(), bound.end());
    }
  } catch (const std::exception& e) {
    log::error("cannot start: {}", e.what());
    log::flush();
    stop_outbound();
    return 1;
  }
  // SIGHUP: certificates are read again (e.g. after a renewal); the process keeps running.
  boost::asio::signal_set hangups(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::info("signal=SIGHUP received: reloading TLS certificates");
    for (auto& h : hosts) h->reload_tls();
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);
  // Signals are caught before the port file tells anyone we are up: a SIGTERM that follows at once must
  // still shut down cleanly rather than kill the process with its default action.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("signal={} received: finishing in-flight requests", signal);
    hangups.cancel();
    for (auto& h : hosts) h->begin_shutdown();
    wait_for_drain(io, hosts, std::chrono::steady_clock::now() + kShutdownGrace);
  });
  for (auto& h : hosts) h->start();
  if (options.port_file) write_port_file(*options.port_file, ports);


  std::vector<std::thread> threads;
  for (int i = 1; i < io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  stop_outbound();
  for (auto& h : hosts) h->close();
  log::info("herald stopped");
  log::flush();
  return 0;
}

}  // namespace

std::vector<std::uint16_t> listen_on(http::Server& server, const std::vector<ListenerConfig>& listeners,
                                     std::string_view what) {
  std::vector<std::uint16_t> ports;
  for (const auto& l : listeners) {
    ports.push_back(server.listen(l.bind_address, l.port, l.resources, l.tls));
    log::info("{} listening address={} port={} tls={}", what, l.bind_address, ports.back(), l.tls);
  }
  return ports;
}

int run_homeserver(const HomeserverConfig& config, const RunOptions& options) {
  return run({.homeserver = &config}, config.log_level, config.io_threads, options);
}

int run_identity_server(const IdentityConfig& config, const RunOptions& options) {
  return run({.identity = &config}, config.log_level, config.io_threads, options);
}

int run_dev(const HomeserverConfig& homeserver, const IdentityConfig& identity, const RunOptions& options) {
  return run({.homeserver = &homeserver, .identity = &identity}, homeserver.log_level,
             std::max(homeserver.io_threads, identity.io_threads), options);
}

int register_user_offline(const HomeserverConfig& config, const std::string& username, const std::string& password,
                          bool admin) {
  log::init(log::Level::warn, false);
  crypto::init();
  storage::Database db(storage::sqlite::connection_factory(config.database.path), config.database.readers, "homeserver");
  SystemClock clock;
  WorkerPool workers(1);
  homeserver::AccountService accounts(db, workers, clock, {.server_name = config.server_name});
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
