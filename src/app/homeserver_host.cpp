// The homeserver's wiring: constructor injection, no globals (STYLE.md §1).
#include <algorithm>
#include <cstdlib>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "app/federation_options.h"
#include "app/service_host.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/rate_limiter.h"
#include "core/worker_pool.h"
#include "crypto/signing_key.h"
#include "homeserver/accounts/account_data_service.h"
#include "homeserver/membership/remote_invites.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/accounts/openid_tokens.h"
#include "homeserver/accounts/threepids.h"
#include "homeserver/accounts/user_interactive_auth.h"
#include "homeserver/e2e/key_backup_service.h"
#include "federation/federation_layer.h"
#include "federation/remote_key_store.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/federation/server_key_persistence.h"
#include "federation/transaction_sender.h"
#include "homeserver/federation/database_outbound_queue.h"
#include "homeserver/federation/federation_missing_events_fetcher.h"
#include "homeserver/federation/federation_outbox.h"
#include "homeserver/federation/federation_inviter.h"
#include "homeserver/federation/federation_joiner.h"
#include "homeserver/federation/federation_knocker.h"
#include "homeserver/federation/federation_leaver.h"
#include "homeserver/federation/federation_queries.h"
#include "homeserver/federation/transaction_receiver.h"
#include "homeserver/federation/verifier_authenticator.h"
#include "homeserver/federation_api/federation_api.h"
#include "homeserver/federation_api/inbound_authenticator.h"
#include "homeserver/rooms/federation_room_reader.h"
#include "homeserver/identity_client/identity_client.h"
#include "homeserver/membership/rejection_sender.h"
#include "homeserver/membership/remote_knocks.h"
#include "homeserver/membership/third_party_invites.h"
#include "http/client.h"
#include "homeserver/rooms/room_reader.h"
#include "homeserver/rooms/room_registry.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/e2e/key_service.h"
#include "homeserver/e2e/to_device_service.h"
#include "homeserver/presence/presence_service.h"
#include "homeserver/sync/filter_store.h"
#include "homeserver/sync/legacy_sync.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "homeserver/sync/sync_service.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "storage/database.h"
#include "storage/e2e_key_store.h"
#include "storage/account_data_store.h"
#include "storage/presence_store.h"
#include "storage/room_store.h"
#include "storage/to_device_store.h"
#include "storage/sqlite/sqlite_connection.h"

namespace herald::app {

std::int64_t max_stream_position(storage::Database& db) {
  std::int64_t position = 0;
  db.read_sync([&](storage::sql::Connection& c) {
    position = std::max({storage::room_store::max_stream(c), storage::room_store::max_membership_stream(c),
                         storage::account_data_store::max_stream(c),
                         storage::presence_store::max_stream(c), storage::e2e_key_store::max_stream(c),
                         storage::to_device_store::max_stream(c)});
  });
  return position;
}

namespace {

std::map<std::string, homeserver::OldVerifyKey> old_verify_keys(const HomeserverConfig& config) {
  std::map<std::string, homeserver::OldVerifyKey> out;
  for (const auto& [key_id, old] : config.old_signing_keys) out[key_id] = {.key = old.key, .expired_ts = old.expired_ts};
  return out;
}

federation::SenderOptions sender_options_of(const HomeserverConfig& c) {
  federation::SenderOptions o;
  o.retry.min = std::chrono::milliseconds(c.federation.destination_min_retry_interval_ms);
  o.retry.max = std::chrono::milliseconds(c.federation.destination_max_retry_interval_ms);
  o.retry.multiplier = c.federation.destination_retry_multiplier;
  return o;
}

// A server that just sent us an authenticated request is up: a destination backing off from it, and a
// rejection waiting on it, are tried again now (as Synapse does on any inbound request).
class RemoteUpAuthenticator final : public homeserver::InboundAuthenticator {
 public:
  RemoteUpAuthenticator(homeserver::InboundAuthenticator& inner, federation::TransactionSender& sender,
                        homeserver::RejectionSender& rejections)
      : inner_(inner), sender_(sender), rejections_(rejections) {}
  Task<std::string> authenticate(const http::Request& req) override {
    std::string origin = co_await inner_.authenticate(req);
    sender_.remote_up(origin);
    rejections_.remote_up(origin);
    co_return origin;
  }

 private:
  homeserver::InboundAuthenticator& inner_;
  federation::TransactionSender& sender_;
  homeserver::RejectionSender& rejections_;
};

class HomeserverHost final : public ServiceHost {
 public:
  HomeserverHost(const HomeserverConfig& config, boost::asio::io_context& io, boost::asio::io_context& outbound)
      : clock_(),
        config_(config),
        signing_key_(crypto::SigningKey::load_or_create(config.signing_key_path)),
        db_(storage::sqlite::connection_factory(config.database.path), config.database.readers, "homeserver"),
        workers_(2),
        limiter_(config.rate_limits, clock_),
        accounts_(db_, workers_, clock_, {.server_name = config.server_name}, &profiles_),
        uia_(clock_, accounts_, limiter_),
        stream_(max_stream_position(db_)),
        notifier_(stream_.last()),
        rooms_(db_, registry_, notifier_, stream_, profiles_, signing_key_, clock_,
               {.server_name = config.server_name, .default_room_version = config.default_room_version}),
        remote_invites_(db_, stream_, notifier_, signing_key_, config.server_name, clock_),
        room_reader_(db_),
        sync_(db_, registry_, notifier_, clock_),
        filters_(db_),
        legacy_sync_(db_, registry_),
        account_data_(db_, stream_, notifier_),
        presence_(db_, stream_, notifier_, clock_),
        keys_(db_, stream_, notifier_, config.server_name),
        to_device_(db_, stream_, notifier_, config.server_name),
        key_backup_(db_),
        openid_(db_, clock_),
        threepids_(db_),
        client_(outbound, http::IpGuard(config.ip_range_blacklist, config.ip_range_whitelist)),
        identity_(client_),
        third_party_(rooms_, identity_, {.trusted_identity_servers = config.trusted_identity_servers}),
        key_persistence_(db_, clock_),
        federation_(outbound, workers_, clock_, federation_client_options(config),
                    {.server_name = config.server_name,
                     .key = &signing_key_,
                     .persistence = &key_persistence_,
                     .fill = &rooms_.server_keys()}),
        queries_(federation_.client()),
        api_{.options = {.server_name = config.server_name,
                         .public_baseurl = config.public_baseurl,
                         .registration_enabled = config.registration_enabled,
                         .default_room_version = config.default_room_version,
                         .identity_server_base_url = config.identity_server_base_url.empty()
                                                         ? std::nullopt
                                                         : std::optional<std::string>(config.identity_server_base_url),
                         .threepid_email_delegate = config.threepid_email_delegate.empty()
                                                        ? std::nullopt
                                                        : std::optional<std::string>(config.threepid_email_delegate),
                         .old_verify_keys = old_verify_keys(config),
                         .serve_server_wellknown = config.serve_server_wellknown},
             .accounts = accounts_,
             .uia = uia_,
             .limiter = limiter_,
             .metrics = metrics_,
             .rooms = rooms_,
             .room_reader = room_reader_,
             .sync = sync_,
             .filters = filters_,
             .legacy_sync = legacy_sync_,
             .account_data = account_data_,
             .presence = presence_,
             .keys = keys_,
             .to_device = to_device_,
             .key_backup = key_backup_,
             .openid = openid_,
             .threepids = threepids_,
             .notifier = notifier_,
             .third_party = third_party_,
             .identity = identity_,
             .signing_key = signing_key_,
             .clock = clock_,
             .federation = federation_,
             .remote_invites = remote_invites_,
             .remote_queries = queries_},
        outbound_queue_(db_),
        sender_(outbound, federation_.client(), outbound_queue_, metrics_, clock_, sender_options_of(config)),
        outbox_(config.server_name, sender_, clock_),
        inviter_(federation_.client(), federation_.keys()),
        joiner_(federation_.client(), federation_.keys(), rooms_, workers_, signing_key_, config.server_name, clock_),
        remote_knocks_(db_, stream_, notifier_, clock_),
        knocker_(federation_.client(), remote_knocks_, signing_key_, config.server_name, clock_),
        leaver_(federation_.client(), config.server_name, signing_key_, clock_),
        rejections_(outbound, db_, leaver_, clock_, sender_options_of(config).retry),
        federation_reader_(db_, rooms_, config.server_name),
        missing_events_(federation_.client()),
        transactions_(db_, rooms_, federation_reader_, missing_events_, metrics_, clock_, config.server_name,
                      &federation_.keys()),
        authenticator_(federation_.verifier()),
        remote_up_(authenticator_, sender_, rejections_),
        federation_gate_(remote_up_, limiter_, config.federation_domain_whitelist),
        federation_api_{.server_name = config.server_name,
                        .gate = federation_gate_,
                        .transactions = transactions_,
                        .reader = federation_reader_,
                        .rooms = rooms_,
                        .accounts = accounts_,
                        .invites = remote_invites_,
                        .clock = clock_,
                        .third_party = third_party_},
        server_(io, router_, metrics_,
                {.body_limit = config.max_request_body_bytes,
                 .read_timeout = std::chrono::seconds(config.request_read_timeout_seconds),
                 .max_connections = config.max_connections,
                 .max_connections_per_address = config.max_connections_per_address,
                 .tls_handshake_timeout = std::chrono::seconds(std::min(config.request_read_timeout_seconds, 10))}) {
    // A deleted device takes its end-to-end keys and to-device messages with it (device lists change).
    accounts_.on_device_deleted([this](storage::sql::Connection& c, const std::string& user, const std::string& device) {
      return keys_.delete_device_keys(c, user, device);
    });
    rooms_.set_outbox(&outbox_);
    rooms_.set_inviter(&inviter_);
    api_.remote_joiner = &joiner_;
    api_.remote_knocker = &knocker_;
    remote_invites_.set_rejections(&rejections_);
    transactions_.set_invites(&remote_invites_);
    rooms_.set_remote_queries(&queries_);
    homeserver::add_client_routes(router_, api_);
    const std::size_t known = homeserver::DatabaseKeyPersistence::load_into(db_, federation_.keys());
    if (known > 0) log::info("server keys loaded objects={}", known);
    homeserver::add_federation_routes(router_, federation_api_);
  }

  std::string name() const override { return "homeserver"; }

  std::vector<std::uint16_t> listen() override {
    if (std::any_of(config_.listeners.begin(), config_.listeners.end(), [](const ListenerConfig& l) { return l.tls; })) {
      try {
        server_.use_tls({.certificate_chain_path = config_.tls_certificate_path,
                         .private_key_path = config_.tls_private_key_path});
      } catch (const http::TlsFileError& e) {
        const char* key = e.which == http::TlsFileError::Which::certificate ? "tls_certificate_path" : "tls_private_key_path";
        throw ConfigError(std::string("'") + key + "': " + e.what());
      }
    }
    return listen_on(server_, config_.listeners, "homeserver");
  }

  void reload_tls() override { server_.reload_tls(); }

  void start() override {
    server_.start();
    sender_.start();
    rejections_.start();
    log::info("herald homeserver started server_name={} version={} signing_key={}", config_.server_name, HERALD_VERSION,
              signing_key_.key_id());
  }

  void begin_shutdown() override {
    server_.stop();
    sender_.stop();  // queued events stay queued for the next start
    rejections_.stop();  // so do kept rejections
    notifier_.shutdown();
  }
  std::size_t active_connections() const override { return server_.active_connections(); }
  void close() override {
    db_.close();
    workers_.stop();
  }

 private:
  SystemClock clock_;
  HomeserverConfig config_;
  crypto::SigningKey signing_key_;
  storage::Database db_;
  WorkerPool workers_;
  RateLimiter limiter_;
  homeserver::ProfileCache profiles_;
  homeserver::AccountService accounts_;
  homeserver::UserInteractiveAuth uia_;
  http::Metrics metrics_;
  http::Router router_;
  homeserver::RoomRegistry registry_;
  homeserver::StreamCounter stream_;
  homeserver::Notifier notifier_;
  homeserver::RoomService rooms_;
  homeserver::RemoteInvites remote_invites_;
  homeserver::RoomReader room_reader_;
  homeserver::SyncService sync_;
  homeserver::FilterStore filters_;
  homeserver::LegacySync legacy_sync_;
  homeserver::AccountDataService account_data_;
  homeserver::PresenceService presence_;
  homeserver::KeyService keys_;
  homeserver::ToDeviceService to_device_;
  homeserver::KeyBackupService key_backup_;
  homeserver::OpenIdTokens openid_;
  homeserver::Threepids threepids_;
  http::Client client_;
  homeserver::HttpIdentityClient identity_;
  homeserver::ThirdPartyInvites third_party_;
  homeserver::DatabaseKeyPersistence key_persistence_;
  federation::FederationLayer federation_;
  homeserver::FederationQueries queries_;
  homeserver::ClientApi api_;
  homeserver::DatabaseOutboundQueue outbound_queue_;
  federation::TransactionSender sender_;
  homeserver::FederationOutbox outbox_;
  homeserver::FederationInviter inviter_;
  homeserver::FederationJoiner joiner_;
  homeserver::RemoteKnocks remote_knocks_;
  homeserver::FederationKnocker knocker_;
  homeserver::FederationLeaver leaver_;
  homeserver::RejectionSender rejections_;
  homeserver::FederationRoomReader federation_reader_;
  homeserver::FederationMissingEventsFetcher missing_events_;
  homeserver::TransactionReceiver transactions_;
  homeserver::VerifierAuthenticator authenticator_;
  RemoteUpAuthenticator remote_up_;
  homeserver::FederationGate federation_gate_;
  homeserver::FederationApi federation_api_;
  http::Server server_;
};

}  // namespace

std::unique_ptr<ServiceHost> make_homeserver_host(const HomeserverConfig& config, boost::asio::io_context& io,
                                                  boost::asio::io_context& outbound) {
  return std::make_unique<HomeserverHost>(config, io, outbound);
}

}  // namespace herald::app
