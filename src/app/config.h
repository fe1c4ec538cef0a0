#pragma once
// The homeserver's configuration, filled from YAML by config_yaml.cpp (the only file that sees yaml-cpp).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/rate_limiter.h"
#include "http/ip_range.h"

namespace herald::app {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ListenerConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 8008;
  bool tls = false;
  std::vector<std::string> resources = {"client", "federation"};
};

// A notary whose /_matrix/key/v2/query answers we accept, and the keys its answers must be signed with.
struct TrustedKeyServer {
  std::string server_name;
  std::map<std::string, std::string> verify_keys;  // "ed25519:id" -> unpadded base64 public key
};

// A signing key this server used before, still published in /_matrix/key/v2/server's old_verify_keys so
// that events and requests it signed can be checked.
struct OldSigningKey {
  std::string key;            // unpadded base64 public key
  std::int64_t expired_ts = 0;  // ms since the epoch: when the key stopped being used
};

struct DatabaseConfig {
  std::string backend = "sqlite";
  std::string path = "./herald-data/homeserver.db";
  int readers = 2;
};

struct HomeserverConfig {
  std::string server_name = "localhost:8008";
  std::string public_baseurl = "http://127.0.0.1:8008/";
  std::vector<ListenerConfig> listeners = {ListenerConfig{}};
  DatabaseConfig database;
  std::string signing_key_path = "./herald-data/signing.key";
  bool registration_enabled = true;
  RateLimitOptions rate_limits;
  std::string default_room_version = "12";
  // id_server name as clients send it -> base URL (null: https://<name>). When not empty, third-party
  // invites and binds go only to these; when empty, to any id_server the client names, over HTTPS.
  std::map<std::string, std::optional<std::string>> trusted_identity_servers;
  // Outbound requests to destinations a client or remote server chose (identity servers not named above;
  // later federation) never reach these ranges, except those also in ip_range_whitelist. Synapse's names.
  std::vector<std::string> ip_range_blacklist = http::default_ip_range_blacklist();
  std::vector<std::string> ip_range_whitelist;
  // TLS for listeners with `tls: true` (PEM; the certificate file holds the full chain). Re-read on SIGHUP.
  std::string tls_certificate_path;
  std::string tls_private_key_path;
  // Federation (Synapse's names). false only for testing: accept any certificate from other servers.
  bool federation_verify_certificates = true;
  std::vector<std::string> federation_custom_ca_list;  // PEM files trusted besides the system's CAs
  std::optional<std::vector<std::string>> federation_domain_whitelist;  // none: every server
  std::vector<TrustedKeyServer> trusted_key_servers;  // empty: fetch keys from each server directly
  std::map<std::string, OldSigningKey> old_signing_keys;  // "ed25519:id" -> key
  // `federation:` (Synapse's names): the outbound transaction sender's back-off per destination.
  struct FederationSenderConfig {
    std::int64_t destination_min_retry_interval_ms = 5000;
    double destination_retry_multiplier = 2.0;
    std::int64_t destination_max_retry_interval_ms = 3600000;
  } federation;
  // Serve /.well-known/matrix/server saying {"m.server": "<server_name host>:<its port, else 443>"}, for a
  // Herald that answers https://<server_name>/ itself and wants federation there rather than on 8448.
  bool serve_server_wellknown = false;
  std::string identity_server_base_url;  // advertised in /.well-known/matrix/client when set
  std::string threepid_email_delegate;   // a trusted identity server that validates emails for /account/3pid
  int io_threads = 2;
  std::size_t max_request_body_bytes = 65536;
  int request_read_timeout_seconds = 30;
  std::size_t max_connections = 10000;             // also kept below the open-file limit
  std::size_t max_connections_per_address = 200;
  std::string log_level = "info";
};

struct EmailConfig {
  std::string smtp_url = "smtp://127.0.0.1:25";
  std::string from = "Herald Identity <noreply@localhost>";
  bool starttls = false;
  std::string username;
  std::string password;
  std::string templates_dir;  // empty: the templates shipped in the binary
  std::string web_client_location = "https://app.element.io";
  // Whether a store-invite caller may name an http:// client for the link (https:// always may).
  bool allow_http_web_client_location = false;
};

struct IdentityConfig {
  std::string server_name = "127.0.0.1:8090";
  std::string public_baseurl = "http://127.0.0.1:8090/";
  std::vector<ListenerConfig> listeners = {ListenerConfig{.port = 8090, .resources = {"identity"}}};
  DatabaseConfig database{.path = "./herald-data/identity.db"};
  std::string signing_key_path = "./herald-data/identity_signing.key";
  std::optional<EmailConfig> email;  // none: messages go to outbox_dir as .eml files
  std::string outbox_dir = "./herald-data/outbox";
  std::map<std::string, std::string> homeservers;  // server name -> base URL
  // Outbound calls to homeservers found by server discovery (onbind, OpenID checks, key fetches) take the
  // homeserver's settings of the same names; the `homeservers` entries above bypass the IP guard.
  bool federation_verify_certificates = true;
  std::vector<std::string> federation_custom_ca_list;
  std::vector<std::string> ip_range_blacklist = http::default_ip_range_blacklist();
  std::vector<std::string> ip_range_whitelist;
  std::vector<TrustedKeyServer> trusted_key_servers;
  RateLimitOptions rate_limits;
  std::string terms_json = "{}";  // the policies object of GET /terms
  std::size_t lookup_limit = 10000;
  // The legacy unauthenticated /_matrix/identity/api/v1/store-invite (the seed's third-party invite flow).
  bool legacy_store_invite = true;
  int io_threads = 1;
  std::size_t max_request_body_bytes = 65536;
  int request_read_timeout_seconds = 30;
  std::size_t max_connections = 10000;             // also kept below the open-file limit
  std::size_t max_connections_per_address = 200;
  std::string log_level = "info";
};

// Throws ConfigError naming the key for unknown keys and bad values (and, for a homeserver with a `tls`
// listener, a missing tls_certificate_path or tls_private_key_path).
HomeserverConfig parse_homeserver_config(std::string_view yaml_text);
IdentityConfig parse_identity_config(std::string_view yaml_text);
IdentityConfig load_identity_config(const std::filesystem::path& path);
// `herald dev`: http://127.0.0.1:8090, mail to <data_dir>/outbox, the dev homeserver trusted for OpenID/onbind.
IdentityConfig dev_identity_config(const std::filesystem::path& data_dir);
HomeserverConfig load_homeserver_config(const std::filesystem::path& path);
// `herald dev`: everything under data_dir, 127.0.0.1:8008, open registration.
HomeserverConfig dev_homeserver_config(const std::filesystem::path& data_dir);

}  // namespace herald::app

namespace herald::embedded {
std::string_view homeserver_example_yaml();
std::string_view identity_example_yaml();
}
