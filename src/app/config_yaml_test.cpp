#include <gtest/gtest.h>

#include <fstream>

#include "app/config.h"

namespace herald::app {
namespace {
std::string error_of(std::string_view yaml) {
  try {
    parse_homeserver_config(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, ExampleFileLoadsAndMatchesDefaults) {
  const HomeserverConfig c = load_homeserver_config(std::string(HERALD_SOURCE_DIR) + "/config/homeserver.example.yaml");
  EXPECT_EQ(c.server_name, "localhost:8008");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].port, 8008);
  EXPECT_EQ(c.database.backend, "sqlite");
  EXPECT_TRUE(c.registration_enabled);
  EXPECT_TRUE(c.rate_limits.enabled);
  EXPECT_DOUBLE_EQ(c.rate_limits.buckets[static_cast<int>(RateAction::login)].per_second, 0.17);
  const HomeserverConfig embedded = parse_homeserver_config(embedded::homeserver_example_yaml());
  EXPECT_EQ(embedded.server_name, c.server_name);
}

TEST(Config, ContractKeys) {
  const HomeserverConfig c = parse_homeserver_config(R"(
server_name: "example.org"
public_baseurl: "https://matrix.example.org"
listeners:
  - {bind_address: 0.0.0.0, port: 0, tls: false, resources: [client]}
  - {bind_address: 127.0.0.1, port: 8448, resources: [federation]}
database: {backend: sqlite, path: /tmp/x.db}
signing_key_path: /tmp/k
registration: {enabled: false}
rate_limits:
  enabled: false
  login: {per_second: 1, burst: 5}
)");
  EXPECT_EQ(c.server_name, "example.org");
  EXPECT_EQ(c.public_baseurl, "https://matrix.example.org/");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].port, 0);
  EXPECT_EQ(c.listeners[1].resources, std::vector<std::string>{"federation"});
  EXPECT_FALSE(c.registration_enabled);
  EXPECT_FALSE(c.rate_limits.enabled);
  EXPECT_DOUBLE_EQ(c.rate_limits.buckets[static_cast<int>(RateAction::login)].burst, 5);
}

TEST(Config, UnknownKeysAndBadValuesAreNamed) {
  EXPECT_NE(error_of("server_nam: x").find("'server_nam'"), std::string::npos);
  EXPECT_NE(error_of("listeners: [{port: 1, colour: red}]").find("listeners[0].colour"), std::string::npos);
  EXPECT_NE(error_of("listeners: [{port: 99999}]").find("listeners[0].port"), std::string::npos);
  EXPECT_NE(error_of("listeners: [{port: abc}]").find("listeners[0].port"), std::string::npos);
  EXPECT_NE(error_of("rate_limits: {login: {per_second: 1, brust: 2}}").find("rate_limits.login.brust"), std::string::npos);
  EXPECT_NE(error_of("rate_limits: {logn: {per_second: 1}}").find("rate_limits.logn"), std::string::npos);
  EXPECT_NE(error_of("registration: {enabled: maybe}").find("registration.enabled"), std::string::npos);
  EXPECT_NE(error_of("database: {backend: oracle}").find("database.backend"), std::string::npos);
  EXPECT_NE(error_of("server_name: 'bad name'").find("server_name"), std::string::npos);
  EXPECT_NE(error_of("default_room_version: '13'").find("default_room_version"), std::string::npos);
  EXPECT_NE(error_of("{{{").find("YAML"), std::string::npos);
}

TEST(Config, IpRangesDefaultToSynapsesBlacklistAndAreChecked) {
  const HomeserverConfig defaults = parse_homeserver_config("server_name: example.org");
  EXPECT_EQ(defaults.ip_range_blacklist, http::default_ip_range_blacklist());
  EXPECT_TRUE(defaults.ip_range_whitelist.empty());
  EXPECT_TRUE(defaults.trusted_identity_servers.empty());
  // The example file spells the default list out.
  const HomeserverConfig example = load_homeserver_config(std::string(HERALD_SOURCE_DIR) + "/config/homeserver.example.yaml");
  EXPECT_EQ(example.ip_range_blacklist, http::default_ip_range_blacklist());
  EXPECT_TRUE(example.ip_range_whitelist.empty());

  const HomeserverConfig c = parse_homeserver_config(R"(
ip_range_blacklist: ["10.0.0.0/8", "fc00::/7", "192.0.2.1"]
ip_range_whitelist: ["127.0.0.0/8"]
)");
  EXPECT_EQ(c.ip_range_blacklist, (std::vector<std::string>{"10.0.0.0/8", "fc00::/7", "192.0.2.1"}));
  EXPECT_EQ(c.ip_range_whitelist, std::vector<std::string>{"127.0.0.0/8"});
  EXPECT_TRUE(parse_homeserver_config("ip_range_blacklist: []").ip_range_blacklist.empty());

  EXPECT_NE(error_of("ip_range_blacklist: ['10.0.0.0/8', '10.0.0.0/40']").find("'ip_range_blacklist[1]': '10.0.0.0/40'"),
            std::string::npos);
  EXPECT_NE(error_of("ip_range_whitelist: ['localhost']").find("ip_range_whitelist[0]"), std::string::npos);
  EXPECT_NE(error_of("ip_range_whitelist: '127.0.0.0/8'").find("'ip_range_whitelist' must be a list"), std::string::npos);
  EXPECT_NE(error_of("ip_range_blacklist: [{a: b}]").find("ip_range_blacklist[0]"), std::string::npos);
}

TEST(Config, FederationKeysDefault) {
  const HomeserverConfig c = parse_homeserver_config("server_name: example.org");
  EXPECT_TRUE(c.tls_certificate_path.empty());
  EXPECT_TRUE(c.tls_private_key_path.empty());
  EXPECT_TRUE(c.federation_verify_certificates);
  EXPECT_TRUE(c.federation_custom_ca_list.empty());
  EXPECT_FALSE(c.federation_domain_whitelist);
  EXPECT_TRUE(c.trusted_key_servers.empty());
  EXPECT_TRUE(c.old_signing_keys.empty());
  EXPECT_FALSE(c.serve_server_wellknown);
  // The example file and `herald dev` spell out the same defaults and have no TLS listener.
  const HomeserverConfig example = load_homeserver_config(std::string(HERALD_SOURCE_DIR) + "/config/homeserver.example.yaml");
  EXPECT_TRUE(example.federation_verify_certificates);
  EXPECT_FALSE(example.federation_domain_whitelist);
  EXPECT_TRUE(example.trusted_key_servers.empty());
  EXPECT_TRUE(example.old_signing_keys.empty());
  EXPECT_TRUE(example.tls_certificate_path.empty());
  for (const auto& l : example.listeners) EXPECT_FALSE(l.tls);
  for (const auto& l : dev_homeserver_config("/tmp/x").listeners) EXPECT_FALSE(l.tls);
}

TEST(Config, FederationContractKeys) {
  const HomeserverConfig c = parse_homeserver_config(R"(
server_name: "localhost:8448"
listeners:
  - {bind_address: 127.0.0.1, port: 8008, tls: false, resources: [client]}
  - {bind_address: 0.0.0.0,  port: 8448, tls: true,  resources: [federation]}
tls_certificate_path: ./herald-data/tls.crt
tls_private_key_path: ./herald-data/tls.key
federation_verify_certificates: false
federation_custom_ca_list: [/tmp/ca.pem, /tmp/other-ca.pem]
ip_range_whitelist: ["127.0.0.0/8", "::1/128"]
federation_domain_whitelist: [example.org, "localhost:8449"]
trusted_key_servers:
  - server_name: matrix.org
    verify_keys: {"ed25519:auto": "Noi6WqcDj0QmPxCNQqgezwTlBKrfqehY1u2FyWP9uYw"}
old_signing_keys:
  "ed25519:a_old": {key: "l8Hft5qXKn1vfHrg3p4+W8gELQVo8N13JkluMfmn2sQ", expired_ts: 1700000000000}
serve_server_wellknown: true
)");
  EXPECT_TRUE(c.serve_server_wellknown);
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_FALSE(c.listeners[0].tls);
  EXPECT_TRUE(c.listeners[1].tls);
  EXPECT_EQ(c.listeners[1].resources, std::vector<std::string>{"federation"});
  EXPECT_EQ(c.tls_certificate_path, "./herald-data/tls.crt");
  EXPECT_EQ(c.tls_private_key_path, "./herald-data/tls.key");
  EXPECT_FALSE(c.federation_verify_certificates);
  EXPECT_EQ(c.federation_custom_ca_list, (std::vector<std::string>{"/tmp/ca.pem", "/tmp/other-ca.pem"}));
  EXPECT_EQ(c.ip_range_whitelist, (std::vector<std::string>{"127.0.0.0/8", "::1/128"}));
  ASSERT_TRUE(c.federation_domain_whitelist);
  EXPECT_EQ(*c.federation_domain_whitelist, (std::vector<std::string>{"example.org", "localhost:8449"}));
  ASSERT_EQ(c.trusted_key_servers.size(), 1u);
  EXPECT_EQ(c.trusted_key_servers[0].server_name, "matrix.org");
  EXPECT_EQ(c.trusted_key_servers[0].verify_keys.at("ed25519:auto"), "Noi6WqcDj0QmPxCNQqgezwTlBKrfqehY1u2FyWP9uYw");
  ASSERT_EQ(c.old_signing_keys.size(), 1u);
  EXPECT_EQ(c.old_signing_keys.at("ed25519:a_old").key, "l8Hft5qXKn1vfHrg3p4+W8gELQVo8N13JkluMfmn2sQ");
  EXPECT_EQ(c.old_signing_keys.at("ed25519:a_old").expired_ts, 1700000000000);

  // An empty whitelist is a whitelist (federate with nobody), not "everyone".
  const HomeserverConfig none = parse_homeserver_config("federation_domain_whitelist: []");
  ASSERT_TRUE(none.federation_domain_whitelist);
  EXPECT_TRUE(none.federation_domain_whitelist->empty());
}

TEST(Config, TlsListenerNeedsCertificateAndKey) {
  const std::string listeners = "listeners: [{port: 8008}, {port: 8448, tls: true, resources: [federation]}]\n";
  const std::string no_cert = error_of(listeners + "tls_private_key_path: /k.pem");
  EXPECT_NE(no_cert.find("'tls_certificate_path' is not set"), std::string::npos) << no_cert;
  EXPECT_NE(no_cert.find("listeners[1].tls"), std::string::npos) << no_cert;
  const std::string no_key = error_of(listeners + "tls_certificate_path: /c.pem");
  EXPECT_NE(no_key.find("'tls_private_key_path' is not set"), std::string::npos) << no_key;
  EXPECT_NE(error_of("listeners: [{tls: true}]").find("tls_certificate_path"), std::string::npos);
  EXPECT_EQ(error_of(listeners + "tls_certificate_path: /c.pem\ntls_private_key_path: /k.pem"), "");
  // Paths without a TLS listener are fine (the files are only read for one).
  EXPECT_EQ(error_of("tls_certificate_path: /c.pem"), "");
  EXPECT_NE(error_of("listeners: [{tls: yes please}]").find("listeners[0].tls"), std::string::npos);
}

TEST(Config, FederationBadValuesAreNamed) {
  EXPECT_NE(error_of("serve_server_wellknown: 443").find("serve_server_wellknown"), std::string::npos);
  EXPECT_NE(error_of("federation_verify_certificates: sometimes").find("federation_verify_certificates"), std::string::npos);
  EXPECT_NE(error_of("federation_custom_ca_list: /tmp/ca.pem").find("'federation_custom_ca_list' must be a list"),
            std::string::npos);
  EXPECT_NE(error_of("federation_custom_ca_list: ['']").find("federation_custom_ca_list[0]"), std::string::npos);
  EXPECT_NE(error_of("federation_domain_whitelist: ['ok.org', 'bad name']").find("federation_domain_whitelist[1]"),
            std::string::npos);
  EXPECT_NE(error_of("federation_domain_whitelist: everyone").find("federation_domain_whitelist"), std::string::npos);
  EXPECT_NE(error_of("trusted_key_servers: {server_name: matrix.org}").find("'trusted_key_servers' must be a list"),
            std::string::npos);
  EXPECT_NE(error_of("trusted_key_servers: [{server_name: matrix.org}]").find("trusted_key_servers[0].verify_keys"),
            std::string::npos);
  EXPECT_NE(error_of("trusted_key_servers: [{server_name: matrix.org, verify_keys: {'ed25519:a': 'xyz'}, "
                     "accept_keys_insecurely: true}]")
                .find("trusted_key_servers[0].accept_keys_insecurely"),
            std::string::npos);
  EXPECT_NE(error_of("trusted_key_servers: [{server_name: matrix.org, verify_keys: {'ed25519:a': 'xyz'}}]")
                .find("trusted_key_servers[0].verify_keys.ed25519:a"),
            std::string::npos);
  EXPECT_NE(error_of("trusted_key_servers: [{server_name: matrix.org, verify_keys: "
                     "{'rsa:a': 'Noi6WqcDj0QmPxCNQqgezwTlBKrfqehY1u2FyWP9uYw'}}]")
                .find("'rsa:a'"),
            std::string::npos);
  EXPECT_NE(error_of("trusted_key_servers: [{server_name: 'not a name', verify_keys: "
                     "{'ed25519:a': 'Noi6WqcDj0QmPxCNQqgezwTlBKrfqehY1u2FyWP9uYw'}}]")
                .find("trusted_key_servers[0].server_name"),
            std::string::npos);
  EXPECT_NE(error_of("old_signing_keys: [a]").find("'old_signing_keys' must map"), std::string::npos);
  EXPECT_NE(error_of("old_signing_keys: {'ed25519:o': {key: 'short', expired_ts: 1}}").find("old_signing_keys.ed25519:o.key"),
            std::string::npos);
  EXPECT_NE(error_of("old_signing_keys: {'ed25519:o': {key: 'l8Hft5qXKn1vfHrg3p4+W8gELQVo8N13JkluMfmn2sQ'}}")
                .find("old_signing_keys.ed25519:o.expired_ts"),
            std::string::npos);
  EXPECT_NE(error_of("old_signing_keys: {'ed25519:o': {expired_ts: 5}}").find("old_signing_keys.ed25519:o.key"),
            std::string::npos);
  EXPECT_NE(error_of("old_signing_keys: {'ed25519:o': {key: 'l8Hft5qXKn1vfHrg3p4+W8gELQVo8N13JkluMfmn2sQ', "
                     "expired_ts: 5, valid: no}}")
                .find("old_signing_keys.ed25519:o.valid"),
            std::string::npos);
  EXPECT_NE(error_of("old_signing_keys: {'ed25519:': {key: 'x', expired_ts: 5}}").find("old_signing_keys"),
            std::string::npos);
}

TEST(IdentityConfig, ExampleFileLoadsAndMatchesDefaults) {
  const IdentityConfig c = load_identity_config(std::string(HERALD_SOURCE_DIR) + "/config/identity.example.yaml");
  EXPECT_EQ(c.server_name, "127.0.0.1:8090");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].port, 8090);
  EXPECT_FALSE(c.email);
  EXPECT_EQ(c.homeservers.at("localhost:8008"), "http://127.0.0.1:8008");
  EXPECT_EQ(c.terms_json, "{}");
  const IdentityConfig embedded = parse_identity_config(embedded::identity_example_yaml());
  EXPECT_EQ(embedded.public_baseurl, c.public_baseurl);
}

TEST(IdentityConfig, ContractKeys) {
  const IdentityConfig c = parse_identity_config(R"(
server_name: is.example.org
public_baseurl: https://is.example.org
listeners: [{bind_address: 127.0.0.1, port: 0, resources: [identity]}]
database: {backend: sqlite, path: /tmp/is.db}
signing_key_path: /tmp/is.key
email: {smtp_url: "smtp://127.0.0.1:2525", from: "Herald <noreply@example.org>", starttls: false, templates_dir: /tmp/t}
homeservers: {"hs.example.org": "http://10.0.0.5:8008"}
federation_verify_certificates: false
federation_custom_ca_list: [/etc/herald/test-ca.pem]
ip_range_whitelist: ["127.0.0.0/8"]
trusted_key_servers: [{server_name: notary.example.org, verify_keys: {"ed25519:a": "l8Hft5qXKn1vfHrg3p4+W8gELQVo8N13JkluMfmn2sQ"}}]
rate_limits: {enabled: false}
terms:
  privacy:
    version: "1.0"
    en: {name: Privacy, url: "https://example.org/privacy"}
)");
  EXPECT_EQ(c.public_baseurl, "https://is.example.org/");
  ASSERT_TRUE(c.email);
  EXPECT_EQ(c.email->smtp_url, "smtp://127.0.0.1:2525");
  EXPECT_EQ(c.email->templates_dir, "/tmp/t");
  EXPECT_EQ(c.homeservers.at("hs.example.org"), "http://10.0.0.5:8008");
  EXPECT_NE(c.terms_json.find("https://example.org/privacy"), std::string::npos);
  EXPECT_FALSE(c.federation_verify_certificates);
  EXPECT_EQ(c.federation_custom_ca_list, std::vector<std::string>{"/etc/herald/test-ca.pem"});
  EXPECT_EQ(c.ip_range_whitelist, std::vector<std::string>{"127.0.0.0/8"});
  EXPECT_FALSE(c.ip_range_blacklist.empty());  // Synapse's defaults stay
  ASSERT_EQ(c.trusted_key_servers.size(), 1u);
  EXPECT_EQ(c.trusted_key_servers[0].server_name, "notary.example.org");
}

TEST(IdentityConfig, BadValuesAreNamed) {
  auto error = [](const char* yaml) {
    try {
      parse_identity_config(yaml);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("email: {smtp_url: 'http://x'}").find("email.smtp_url"), std::string::npos);
  EXPECT_NE(error("email: {smtp_url: 'smtp://x', form: a}").find("email.form"), std::string::npos);
  EXPECT_NE(error("homeservers: {'hs': 'ftp://x'}").find("homeservers.hs"), std::string::npos);
  EXPECT_NE(error("terms: {p: {version: '1', en: {name: x}}}").find("terms.p.en"), std::string::npos);
  EXPECT_NE(error("colour: red").find("colour"), std::string::npos);
  EXPECT_NE(error("listeners: [{port: 8090, tls: true, resources: [identity]}]").find("listeners[0].tls"), std::string::npos);
  EXPECT_NE(error("ip_range_whitelist: ['not a range']").find("ip_range_whitelist"), std::string::npos);
  EXPECT_NE(error("federation_custom_ca_list: 3").find("federation_custom_ca_list"), std::string::npos);
}

}  // namespace herald::app
