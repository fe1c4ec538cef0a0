// The homeserver's wiring: constructor injection, no globals (STYLE.md §1).
#include <algorithm>
#include <cstdlib>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "app/service_host.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/rate_limiter.h"
#include "core/worker_pool.h"
#include "crypto/signing_key.h"
#include "homeserver/accounts/account_data_service.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/accounts/openid_tokens.h"
#include "homeserver/accounts/threepids.h"
#include "homeserver/accounts/user_interactive_auth.h"
#include "homeserver/e2e/key_backup_service.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/federation/key_ring_authenticator.h"
#include "homeserver/federation/missing_events_fetcher.h"
#include "homeserver/federation/transaction_receiver.h"
#include "homeserver/federation_api/federation_api.h"
#include "homeserver/federation_api/inbound_authenticator.h"
#include "homeserver/rooms/federation_room_reader.h"
#include "homeserver/identity_client/identity_client.h"
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
    position = std::max({storage::room_store::max_stream(c), storage::account_data_store::max_stream(c),
                         storage::presence_store::max_stream(c), storage::e2e_key_store::max_stream(c),
                         storage::to_device_store::max_stream(c)});
  });
  return position;
}

namespace {

// Tests only: remote servers' signing keys to trust without fetching them, "server,ed25519:id,base64"
// separated by ';'. The integration tests sign requests and PDUs as a made-up server; until the federation
// layer fetches keys, this is how the running server learns that server's key. Logged loudly.
constexpr const char* kTestTrustedKeysEnv = "HERALD_TEST_TRUSTED_SERVER_KEYS";

void add_test_trusted_keys(homeserver::StaticServerKeyRing& ring) {
  const char* value = std::getenv(kTestTrustedKeysEnv);
  if (!value || !*value) return;
  std::string_view rest = value;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const std::string spec(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    if (spec.empty()) continue;
    add_trusted_key(ring, spec);
    log::warn("{}: trusting a server key given by the environment (tests only): {}", kTestTrustedKeysEnv,
              spec.substr(0, spec.rfind(',')));
  }
}

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
        api_{.options = {.server_name = config.server_name,
                         .public_baseurl = config.public_baseurl,
                         .registration_enabled = config.registration_enabled,
                         .default_room_version = config.default_room_version,
                         .identity_server_base_url = config.identity_server_base_url.empty()
                                                         ? std::nullopt
                                                         : std::optional<std::string>(config.identity_server_base_url),
                         .threepid_email_delegate = config.threepid_email_delegate.empty()
                                                        ? std::nullopt
                                                        : std::optional<std::string>(config.threepid_email_delegate)},
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
             .clock = clock_},
        federation_reader_(db_, rooms_, config.server_name),
        transactions_(db_, rooms_, federation_reader_, missing_events_, metrics_, clock_, config.server_name),
        // The static key ring knows this server's key and the test-only ones; the federation layer's
        // fetching request verifier replaces it.
        authenticator_(rooms_.server_keys(), config.server_name, clock_),
        federation_gate_(authenticator_, limiter_, std::nullopt),  // TODO(config): federation_domain_whitelist
        federation_api_{.server_name = config.server_name,
                        .gate = federation_gate_,
                        .transactions = transactions_,
                        .reader = federation_reader_,
                        .rooms = rooms_,
                        .accounts = accounts_,
                        .clock = clock_},
        server_(io, router_, metrics_,
                {.body_limit = config.max_request_body_bytes,
                 .read_timeout = std::chrono::seconds(config.request_read_timeout_seconds),
                 .max_connections = config.max_connections,
                 .max_connections_per_address = config.max_connections_per_address}) {
    // A deleted device takes its end-to-end keys and to-device messages with it (device lists change).
    accounts_.on_device_deleted([this](storage::sql::Connection& c, const std::string& user, const std::string& device) {
      return keys_.delete_device_keys(c, user, device);
    });
    homeserver::add_client_routes(router_, api_);
    homeserver::add_federation_routes(router_, federation_api_);
    add_test_trusted_keys(rooms_.server_keys());
  }

  std::string name() const override { return "homeserver"; }

  std::vector<std::uint16_t> listen() override { return listen_on(server_, config_.listeners, "homeserver"); }

  void start() override {
    server_.start();
    log::info("herald homeserver started server_name={} version={} signing_key={}", config_.server_name, HERALD_VERSION,
              signing_key_.key_id());
  }

  void begin_shutdown() override {
    server_.stop();
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
  homeserver::ClientApi api_;
  homeserver::FederationRoomReader federation_reader_;
  // TODO(federation client): the outbound client's fetcher (get_missing_events, then /state_ids + /event).
  homeserver::NullMissingEventsFetcher missing_events_;
  homeserver::TransactionReceiver transactions_;
  homeserver::KeyRingAuthenticator authenticator_;
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
