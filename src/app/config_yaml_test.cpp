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

}  // namespace herald::app
