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
  EXPECT_NE(error_of("listeners: [{tls: true}]").find("tls"), std::string::npos);
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
}

}  // namespace herald::app
