// The identity server's wiring: constructor injection, no globals (STYLE.md §1). It shares nothing with the
// homeserver but the process: its own database, key, limiter and HTTP listener.
#include <boost/asio/io_context.hpp>

#include "app/federation_options.h"
#include "app/service_host.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "core/worker_pool.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "federation/federation_layer.h"
#include "http/ip_range.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "identity/accounts/account_store.h"
#include "identity/api/identity_api.h"
#include "identity/context.h"
#include "identity/onbind/onbind_delivery.h"
#include "identity/templates.h"
#include "mail/sender.h"
#include "storage/database.h"
#include "storage/sqlite/sqlite_connection.h"

namespace herald::app {
namespace {

std::unique_ptr<mail::Sender> make_sender(const IdentityConfig& c) {
  if (!c.email) return mail::make_outbox_sender(c.outbox_dir);
  return mail::make_smtp_sender({.url = c.email->smtp_url,
                                 .starttls = c.email->starttls,
                                 .username = c.email->username,
                                 .password = c.email->password});
}

std::optional<std::filesystem::path> templates_dir(const IdentityConfig& c) {
  if (c.email && !c.email->templates_dir.empty()) return std::filesystem::path(c.email->templates_dir);
  return std::nullopt;
}

std::string load_pepper(storage::Database& db) {
  std::string pepper;
  const std::string fresh = crypto::random_alnum(16);
  db.write_sync([&](storage::sql::Connection& c) { pepper = identity::account_store::setting_or_insert(c, "lookup_pepper", fresh); });
  return pepper;
}

// The identity server's outbound calls (onbind, OpenID checks, homeserver keys) use the one federation
// layer: discovery, IP guard, CA settings. Operator-named homeservers bypass discovery and the guard.
federation::FederationClientOptions federation_options_of(const IdentityConfig& c) {
  federation::FederationClientOptions o = federation_client_options(c);
  o.destination_overrides = c.homeservers;
  return o;
}

identity::IdentityOptions options_of(const IdentityConfig& c) {
  identity::IdentityOptions o;
  o.server_name = c.server_name;
  o.public_baseurl = c.public_baseurl;
  if (c.email) {
    o.web_client_location = c.email->web_client_location;
    o.allow_http_web_client_location = c.email->allow_http_web_client_location;
    o.mail_from = c.email->from;
  } else {
    o.log_email_links = true;
  }
  o.terms_policies = nlohmann::json::parse(c.terms_json);
  o.lookup_limit = c.lookup_limit;
  o.legacy_store_invite = c.legacy_store_invite;
  return o;
}

class IdentityHost final : public ServiceHost {
 public:
  IdentityHost(const IdentityConfig& config, boost::asio::io_context& io, boost::asio::io_context& outbound)
      : config_(config),
        key_(crypto::SigningKey::load_or_create(config.signing_key_path, "0")),
        db_(storage::sqlite::connection_factory(config.database.path), config.database.readers, "identity"),
        workers_(2),
        limiter_(config.rate_limits, clock_),
        federation_(outbound, workers_, clock_, federation_options_of(config),
                    {.server_name = config.server_name, .key = &key_, .verifier_destination_key = "destination_is"}),
        sender_(make_sender(config)),
        templates_(templates_dir(config)),
        onbind_(outbound, db_, federation_.client(), clock_),
        ctx_{.options = options_of(config),
             .db = db_,
             .workers = workers_,
             .clock = clock_,
             .limiter = limiter_,
             .key = key_,
             .federation = federation_.client(),
             .unbind_verifier = federation_.verifier(),
             .mail = *sender_,
             .templates = templates_,
             .onbind = onbind_,
             .lookup_pepper = load_pepper(db_)},
        server_(io, router_, metrics_,
                {.body_limit = config.max_request_body_bytes,
                 .read_timeout = std::chrono::seconds(config.request_read_timeout_seconds),
                 .max_connections = config.max_connections,
                 .max_connections_per_address = config.max_connections_per_address}) {
    identity::add_identity_routes(router_, ctx_);
    router_.add(http::Method::get, "/health", [](http::Request) -> Task<http::Response> { co_return http::Response::text(200, "OK"); });
    router_.add(http::Method::get, "/metrics", [this](http::Request req) -> Task<http::Response> {
      if (!req.listener_serves("metrics")) throw MatrixError(Errc::unrecognized, "Unrecognized request", 404);
      co_return http::Response::text(200, metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }

  std::string name() const override { return "identity"; }

  std::vector<std::uint16_t> listen() override { return listen_on(server_, config_.listeners, "identity server"); }

  void start() override {
    server_.start();
    onbind_.start();
    log::info("herald identity server started server_name={} version={} key={} mail={}", config_.server_name,
              HERALD_VERSION, key_.key_id(), config_.email ? config_.email->smtp_url : "outbox " + config_.outbox_dir);
  }

  void begin_shutdown() override {
    server_.stop();
    onbind_.stop();
  }
  std::size_t active_connections() const override { return server_.active_connections(); }
  void close() override {
    db_.close();
    workers_.stop();
  }

 private:
  SystemClock clock_;
  IdentityConfig config_;
  crypto::SigningKey key_;
  storage::Database db_;
  WorkerPool workers_;
  RateLimiter limiter_;
  federation::FederationLayer federation_;
  std::unique_ptr<mail::Sender> sender_;
  identity::Templates templates_;
  identity::OnbindDelivery onbind_;
  identity::IdentityContext ctx_;
  http::Metrics metrics_;
  http::Router router_;
  http::Server server_;
};

}  // namespace

std::unique_ptr<ServiceHost> make_identity_host(const IdentityConfig& config, boost::asio::io_context& io,
                                                boost::asio::io_context& outbound) {
  return std::make_unique<IdentityHost>(config, io, outbound);
}

}  // namespace herald::app
