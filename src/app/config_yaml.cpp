#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "app/config.h"
#include "core/ids.h"
#include "crypto/base64.h"

namespace herald::app {
namespace {

// Reads a YAML mapping, remembering which keys were used so that leftovers are reported by name.
class MapReader {
 public:
  MapReader(YAML::Node node, std::string path) : node_(node), path_(std::move(path)) {
    if (!node_.IsMap()) throw ConfigError("'" + path_ + "' must be a mapping");
  }

  template <class T>
  void read(const char* key, T& out) {
    const YAML::Node v = take(key);
    if (!v || v.IsNull()) return;
    convert(v, name(key), out);
  }

  YAML::Node take(const char* key) {
    used_.insert(key);
    return node_[key];
  }

  std::string name(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

  void finish() const {
    for (const auto& kv : node_) {
      if (!kv.first.IsScalar()) {
        throw ConfigError("configuration keys" + (path_.empty() ? std::string() : " under '" + path_ + "'") + " must be strings");
      }
      const std::string key = kv.first.as<std::string>();
      if (!used_.contains(key)) throw ConfigError("unknown configuration key '" + name(key) + "'");
    }
  }

 private:
  static void convert(const YAML::Node& v, const std::string& key, std::string& out) {
    if (!v.IsScalar()) throw ConfigError("'" + key + "' must be a string");
    out = v.as<std::string>();
  }
  static void convert(const YAML::Node& v, const std::string& key, bool& out) {
    try {
      out = v.as<bool>();
    } catch (const YAML::Exception&) {
      throw ConfigError("'" + key + "' must be true or false");
    }
  }
  template <class Int>
    requires std::is_integral_v<Int>
  static void convert(const YAML::Node& v, const std::string& key, Int& out) {
    try {
      const long long n = v.as<long long>();
      if (n < static_cast<long long>(std::numeric_limits<Int>::min()) ||
          static_cast<unsigned long long>(n) > static_cast<unsigned long long>(std::numeric_limits<Int>::max()) ||
          (n < 0 && !std::is_signed_v<Int>))
        throw ConfigError("'" + key + "' is out of range");
      out = static_cast<Int>(n);
    } catch (const YAML::Exception&) {
      throw ConfigError("'" + key + "' must be an integer");
    }
  }
  static void convert(const YAML::Node& v, const std::string& key, double& out) {
    try {
      out = v.as<double>();
    } catch (const YAML::Exception&) {
      throw ConfigError("'" + key + "' must be a number");
    }
  }

  YAML::Node node_;
  std::string path_;
  std::set<std::string> used_;
};

// A duration as Synapse writes it: an integer of milliseconds, or a string "500ms", "5s", "10m", "1h", "1d", "1w".
std::int64_t parse_duration_ms(const YAML::Node& v, const std::string& key) {
  if (!v.IsScalar()) throw ConfigError("'" + key + "' must be a duration (milliseconds, or e.g. \"10m\")");
  const std::string text = v.as<std::string>();
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string unit = text.substr(digits);
  static const std::map<std::string, std::int64_t> kUnits = {{"", 1},        {"ms", 1},       {"s", 1000},
                                                             {"m", 60000},   {"h", 3600000},  {"d", 86400000},
                                                             {"w", 604800000}};
  const auto u = kUnits.find(unit);
  if (digits == 0 || digits > 12 || u == kUnits.end()) {
    throw ConfigError("'" + key + "' must be a duration (milliseconds, or e.g. \"10m\"), not '" + text + "'");
  }
  return std::stoll(text.substr(0, digits)) * u->second;
}

ListenerConfig parse_listener(const YAML::Node& node, const std::string& path) {
  ListenerConfig l;
  MapReader r(node, path);
  r.read("bind_address", l.bind_address);
  r.read("port", l.port);
  r.read("tls", l.tls);
  if (YAML::Node res = r.take("resources")) {
    if (!res.IsSequence()) throw ConfigError("'" + path + ".resources' must be a list");
    l.resources.clear();
    for (const auto& item : res) {
      if (!item.IsScalar()) throw ConfigError("'" + path + ".resources' must be a list of names");
      const std::string v = item.as<std::string>();
      if (v != "client" && v != "federation" && v != "identity" && v != "metrics") {
        throw ConfigError("'" + path + ".resources' has unknown resource '" + v + "' (client, federation, identity, metrics)");
      }
      l.resources.push_back(v);
    }
  }
  r.finish();
  if (l.bind_address.empty()) throw ConfigError("'" + path + ".bind_address' must not be empty");
  return l;
}

void parse_rate_limits(const YAML::Node& node, RateLimitOptions& out) {
  MapReader r(node, "rate_limits");
  r.read("enabled", out.enabled);
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (key == "enabled") continue;
    const auto action = rate_action_from_name(key);
    if (!action) continue;  // reported by finish()
    RateBucket& bucket = out.buckets[static_cast<std::size_t>(*action)];
    MapReader b(r.take(key.c_str()), r.name(key));
    b.read("per_second", bucket.per_second);
    b.read("burst", bucket.burst);
    b.finish();
    if (bucket.per_second < 0 || bucket.burst < 1) {
      throw ConfigError("'rate_limits." + key + "' needs per_second >= 0 and burst >= 1");
    }
  }
  r.finish();
}

YAML::Node load_yaml(std::string_view yaml_text) {
  try {
    return YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("configuration is not valid YAML: ") + e.what());
  }
}

std::vector<ListenerConfig> parse_listeners(const YAML::Node& listeners) {
  if (!listeners.IsSequence() || listeners.size() == 0) throw ConfigError("'listeners' must be a non-empty list");
  std::vector<ListenerConfig> out;
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    out.push_back(parse_listener(listeners[i], "listeners[" + std::to_string(i) + "]"));
  }
  return out;
}

void parse_database(const YAML::Node& db, DatabaseConfig& out) {
  MapReader d(db, "database");
  d.read("backend", out.backend);
  d.read("path", out.path);
  d.read("readers", out.readers);
  d.finish();
  if (out.backend != "sqlite") throw ConfigError("'database.backend': '" + out.backend + "' is not supported (sqlite)");
  if (out.readers < 1 || out.readers > 64) throw ConfigError("'database.readers' must be 1..64");
}

void check_common(const std::string& server_name, std::string& public_baseurl, int io_threads, std::size_t body_bytes,
                  int read_timeout, const std::string& log_level) {
  if (!is_valid_server_name(server_name)) throw ConfigError("'server_name': '" + server_name + "' is not a valid server name");
  if (public_baseurl.rfind("http://", 0) != 0 && public_baseurl.rfind("https://", 0) != 0) {
    throw ConfigError("'public_baseurl' must start with http:// or https://");
  }
  if (public_baseurl.back() != '/') public_baseurl += '/';
  if (io_threads < 1 || io_threads > 64) throw ConfigError("'io_threads' must be 1..64");
  if (body_bytes < 1024) throw ConfigError("'max_request_body_bytes' must be at least 1024");
  if (read_timeout < 1) throw ConfigError("'request_read_timeout_seconds' must be at least 1");
  if (log_level != "debug" && log_level != "info" && log_level != "warn" && log_level != "error" && log_level != "off") {
    throw ConfigError("'log_level' must be one of debug, info, warn, error, off");
  }
}

// Terms policies are free-form YAML (name, url and version per language); they become the JSON of GET /terms.
nlohmann::json yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
    return out;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  if (node.IsNull()) return nullptr;
  return node.as<std::string>();
}

nlohmann::json parse_terms(const YAML::Node& node) {
  if (!node.IsMap()) throw ConfigError("'terms' must be a mapping of policy names to policies");
  nlohmann::json policies = yaml_to_json(node);
  for (const auto& [id, policy] : policies.items()) {
    if (!policy.is_object() || !policy.contains("version") || !policy["version"].is_string()) {
      throw ConfigError("'terms." + id + "' needs a version and at least one language with name and url");
    }
    int languages = 0;
    for (const auto& [lang, doc] : policy.items()) {
      if (lang == "version") continue;
      if (!doc.is_object() || !doc.contains("name") || !doc.contains("url") || !doc["url"].is_string() ||
          !(doc["url"].get<std::string>().starts_with("https://") || doc["url"].get<std::string>().starts_with("http://"))) {
        throw ConfigError("'terms." + id + "." + lang + "' needs a name and an http(s) url");
      }
      ++languages;
    }
    if (languages == 0) throw ConfigError("'terms." + id + "' needs at least one language with name and url");
  }
  return policies;
}

// A list of CIDR ranges ("10.0.0.0/8", "::1/128", or a single address), each checked here so that a typo
// stops start-up with the key and the entry named.
std::vector<std::string> parse_ip_ranges(const YAML::Node& node, const std::string& key) {
  if (!node.IsSequence()) throw ConfigError("'" + key + "' must be a list of CIDR ranges such as \"10.0.0.0/8\"");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string entry = node[i].IsScalar() ? node[i].as<std::string>() : "";
    if (!http::IpRange::parse(entry)) {
      throw ConfigError("'" + key + "[" + std::to_string(i) + "]': '" + entry + "' is not an IP address or CIDR range");
    }
    out.push_back(entry);
  }
  return out;
}


// A list of strings (file paths, server names); `what` says what each entry is, for the message.
std::vector<std::string> parse_string_list(const YAML::Node& node, const std::string& key, const char* what) {
  if (!node.IsSequence()) throw ConfigError("'" + key + "' must be a list of " + what);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar() || node[i].as<std::string>().empty()) {
      throw ConfigError("'" + key + "[" + std::to_string(i) + "]' must be one of " + what);
    }
    out.push_back(node[i].as<std::string>());
  }
  return out;
}

bool is_ed25519_key_id(std::string_view id) {
  constexpr std::string_view prefix = "ed25519:";
  if (!id.starts_with(prefix) || id.size() == prefix.size()) return false;
  for (char ch : id.substr(prefix.size())) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') return false;
  }
  return true;
}

// An ed25519 public key as servers publish it: unpadded base64 of 32 bytes.
std::string parse_public_key(const YAML::Node& node, const std::string& key) {
  const std::string text = node.IsScalar() ? node.as<std::string>() : "";
  const auto bytes = crypto::base64_decode(text);
  if (!bytes || bytes->size() != 32) throw ConfigError("'" + key + "' must be an ed25519 public key in unpadded base64");
  return text;
}

// [{server_name: matrix.org, verify_keys: {"ed25519:auto": "Noi6WqcDj0QmPxCNQqgezwTlBKrfqehY1u2FyWP9uYw"}}]
std::vector<TrustedKeyServer> parse_trusted_key_servers(const YAML::Node& node) {
  if (!node.IsSequence()) throw ConfigError("'trusted_key_servers' must be a list of {server_name, verify_keys}");
  std::vector<TrustedKeyServer> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "trusted_key_servers[" + std::to_string(i) + "]";
    TrustedKeyServer server;
    MapReader r(node[i], path);
    r.read("server_name", server.server_name);
    const YAML::Node keys = r.take("verify_keys");
    r.finish();
    if (!is_valid_server_name(server.server_name)) {
      throw ConfigError("'" + path + ".server_name' must be a server name such as matrix.org");
    }
    if (!keys || !keys.IsMap() || keys.size() == 0) {
      throw ConfigError("'" + path + ".verify_keys' must map key ids (\"ed25519:...\") to the notary's public keys; "
                        "Herald accepts a notary's answers only when it can check their signature");
    }
    for (const auto& kv : keys) {
      const std::string id = kv.first.as<std::string>();
      if (!is_ed25519_key_id(id)) throw ConfigError("'" + path + ".verify_keys': '" + id + "' is not a key id such as ed25519:auto");
      server.verify_keys[id] = parse_public_key(kv.second, path + ".verify_keys." + id);
    }
    out.push_back(std::move(server));
  }
  return out;
}

// Synapse's form: {"ed25519:old": {key: <unpadded base64 public key>, expired_ts: <ms>}}
std::map<std::string, OldSigningKey> parse_old_signing_keys(const YAML::Node& node) {
  if (!node.IsMap()) throw ConfigError("'old_signing_keys' must map key ids to {key, expired_ts}");
  std::map<std::string, OldSigningKey> out;
  for (const auto& kv : node) {
    const std::string id = kv.first.as<std::string>();
    const std::string path = "old_signing_keys." + id;
    if (!is_ed25519_key_id(id)) throw ConfigError("'old_signing_keys': '" + id + "' is not a key id such as ed25519:a_old");
    OldSigningKey old;
    MapReader r(kv.second, path);
    const YAML::Node key = r.take("key");
    r.read("expired_ts", old.expired_ts);
    r.finish();
    if (!key) throw ConfigError("'" + path + ".key' is required");
    old.key = parse_public_key(key, path + ".key");
    if (old.expired_ts <= 0) throw ConfigError("'" + path + ".expired_ts' must be a time in milliseconds since 1970");
    out[id] = old;
  }
  return out;
}

}  // namespace

namespace {
IdentityConfig read_identity_config(std::string_view yaml_text);
HomeserverConfig read_homeserver_config(std::string_view yaml_text);
}  // namespace

// Whatever yaml-cpp throws on a shape the readers did not foresee becomes a ConfigError (found by the
// config_yaml fuzz target): start-up stops with a message, never with a library exception.
IdentityConfig parse_identity_config(std::string_view yaml_text) {
  try {
    return read_identity_config(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("configuration has a value of the wrong shape: ") + e.what());
  }
}

HomeserverConfig parse_homeserver_config(std::string_view yaml_text) {
  try {
    return read_homeserver_config(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("configuration has a value of the wrong shape: ") + e.what());
  }
}

namespace {
IdentityConfig read_identity_config(std::string_view yaml_text) {
  const YAML::Node root = load_yaml(yaml_text);
  IdentityConfig c;
  if (!root || root.IsNull()) return c;
  MapReader r(root, "");
  r.read("server_name", c.server_name);
  r.read("public_baseurl", c.public_baseurl);
  if (YAML::Node listeners = r.take("listeners")) c.listeners = parse_listeners(listeners);
  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    if (c.listeners[i].tls) {
      throw ConfigError("'listeners[" + std::to_string(i) +
                        "].tls': the identity server does not serve TLS itself; terminate TLS in a proxy");
    }
  }
  if (YAML::Node db = r.take("database")) parse_database(db, c.database);
  r.read("signing_key_path", c.signing_key_path);
  if (YAML::Node email = r.take("email"); email && !email.IsNull()) {
    EmailConfig e;
    MapReader m(email, "email");
    m.read("smtp_url", e.smtp_url);
    m.read("from", e.from);
    m.read("starttls", e.starttls);
    m.read("username", e.username);
    m.read("password", e.password);
    m.read("templates_dir", e.templates_dir);
    m.read("web_client_location", e.web_client_location);
    m.read("allow_http_web_client_location", e.allow_http_web_client_location);
    m.finish();
    if (e.smtp_url.rfind("smtp://", 0) != 0 && e.smtp_url.rfind("smtps://", 0) != 0) {
      throw ConfigError("'email.smtp_url' must start with smtp:// or smtps://");
    }
    if (e.from.find('@') == std::string::npos || e.from.find_first_of("\r\n") != std::string::npos) {
      throw ConfigError("'email.from' must be an address such as \"Herald <noreply@example.org>\"");
    }
    c.email = e;
  }
  r.read("outbox_dir", c.outbox_dir);
  if (YAML::Node hs = r.take("homeservers"); hs && !hs.IsNull()) {
    if (!hs.IsMap()) throw ConfigError("'homeservers' must map server names to base URLs");
    for (const auto& kv : hs) {
      const std::string name = kv.first.as<std::string>();
      const std::string url = kv.second.IsScalar() ? kv.second.as<std::string>() : "";
      if (!is_valid_server_name(name)) throw ConfigError("'homeservers': '" + name + "' is not a valid server name");
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        throw ConfigError("'homeservers." + name + "' must be an http(s) base URL");
      }
      c.homeservers[name] = url;
    }
  }
  if (YAML::Node rl = r.take("rate_limits")) parse_rate_limits(rl, c.rate_limits);
  if (YAML::Node terms = r.take("terms"); terms && !terms.IsNull()) c.terms_json = parse_terms(terms).dump();
  r.read("lookup_limit", c.lookup_limit);
  r.read("federation_verify_certificates", c.federation_verify_certificates);
  if (YAML::Node list = r.take("federation_custom_ca_list"); list && !list.IsNull()) {
    c.federation_custom_ca_list = parse_string_list(list, "federation_custom_ca_list", "PEM file paths");
  }
  if (YAML::Node list = r.take("ip_range_blacklist"); list && !list.IsNull()) {
    c.ip_range_blacklist = parse_ip_ranges(list, "ip_range_blacklist");
  }
  if (YAML::Node list = r.take("ip_range_whitelist"); list && !list.IsNull()) {
    c.ip_range_whitelist = parse_ip_ranges(list, "ip_range_whitelist");
  }
  if (YAML::Node list = r.take("trusted_key_servers"); list && !list.IsNull()) {
    c.trusted_key_servers = parse_trusted_key_servers(list);
  }
  r.read("legacy_store_invite", c.legacy_store_invite);
  r.read("io_threads", c.io_threads);
  r.read("max_request_body_bytes", c.max_request_body_bytes);
  r.read("request_read_timeout_seconds", c.request_read_timeout_seconds);
  r.read("max_connections", c.max_connections);
  r.read("max_connections_per_address", c.max_connections_per_address);
  if (c.max_connections < 1 || c.max_connections_per_address < 1) {
    throw ConfigError("'max_connections' and 'max_connections_per_address' must be at least 1");
  }
  r.read("log_level", c.log_level);
  r.finish();
  check_common(c.server_name, c.public_baseurl, c.io_threads, c.max_request_body_bytes, c.request_read_timeout_seconds,
               c.log_level);
  if (c.lookup_limit < 1) throw ConfigError("'lookup_limit' must be at least 1");
  return c;
}
}  // namespace

IdentityConfig load_identity_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read configuration file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse_identity_config(text.str());
}

IdentityConfig dev_identity_config(const std::filesystem::path& data_dir) {
  IdentityConfig c;
  c.database.path = (data_dir / "identity.db").string();
  c.signing_key_path = (data_dir / "identity_signing.key").string();
  c.outbox_dir = (data_dir / "outbox").string();
  c.homeservers = {{"localhost:8008", "http://127.0.0.1:8008"}};
  return c;
}

namespace {
HomeserverConfig read_homeserver_config(std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("configuration is not valid YAML: ") + e.what());
  }
  HomeserverConfig c;
  if (!root || root.IsNull()) return c;
  MapReader r(root, "");
  r.read("server_name", c.server_name);
  r.read("public_baseurl", c.public_baseurl);
  if (YAML::Node listeners = r.take("listeners")) {
    if (!listeners.IsSequence() || listeners.size() == 0) throw ConfigError("'listeners' must be a non-empty list");
    c.listeners.clear();
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      c.listeners.push_back(parse_listener(listeners[i], "listeners[" + std::to_string(i) + "]"));
    }
  }
  if (YAML::Node db = r.take("database")) {
    MapReader d(db, "database");
    d.read("backend", c.database.backend);
    d.read("path", c.database.path);
    d.read("readers", c.database.readers);
    d.finish();
    if (c.database.backend != "sqlite") {
      throw ConfigError("'database.backend': '" + c.database.backend + "' is not supported (sqlite)");
    }
    if (c.database.readers < 1 || c.database.readers > 64) throw ConfigError("'database.readers' must be 1..64");
  }
  r.read("signing_key_path", c.signing_key_path);
  if (YAML::Node reg = r.take("registration")) {
    MapReader g(reg, "registration");
    g.read("enabled", c.registration_enabled);
    g.finish();
  }
  if (YAML::Node rl = r.take("rate_limits")) parse_rate_limits(rl, c.rate_limits);
  r.read("default_room_version", c.default_room_version);
  if (YAML::Node tis = r.take("trusted_identity_servers"); tis && !tis.IsNull()) {
    if (!tis.IsMap()) throw ConfigError("'trusted_identity_servers' must map id_server names to base URLs (or null)");
    for (const auto& kv : tis) {
      const std::string name = kv.first.as<std::string>();
      if (!is_valid_server_name(name)) throw ConfigError("'trusted_identity_servers': '" + name + "' is not a valid server name");
      if (kv.second.IsNull()) {
        c.trusted_identity_servers[name] = std::nullopt;
        continue;
      }
      const std::string url = kv.second.IsScalar() ? kv.second.as<std::string>() : "";
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        throw ConfigError("'trusted_identity_servers." + name + "' must be an http(s) base URL or null");
      }
      c.trusted_identity_servers[name] = url;
    }
  }
  if (YAML::Node list = r.take("ip_range_blacklist"); list && !list.IsNull()) {
    c.ip_range_blacklist = parse_ip_ranges(list, "ip_range_blacklist");
  }
  if (YAML::Node list = r.take("ip_range_whitelist"); list && !list.IsNull()) {
    c.ip_range_whitelist = parse_ip_ranges(list, "ip_range_whitelist");
  }
  r.read("tls_certificate_path", c.tls_certificate_path);
  r.read("tls_private_key_path", c.tls_private_key_path);
  r.read("federation_verify_certificates", c.federation_verify_certificates);
  if (YAML::Node list = r.take("federation_custom_ca_list"); list && !list.IsNull()) {
    c.federation_custom_ca_list = parse_string_list(list, "federation_custom_ca_list", "PEM file paths");
  }
  if (YAML::Node list = r.take("federation_domain_whitelist"); list && !list.IsNull()) {
    c.federation_domain_whitelist = parse_string_list(list, "federation_domain_whitelist", "server names");
    for (std::size_t i = 0; i < c.federation_domain_whitelist->size(); ++i) {
      if (!is_valid_server_name((*c.federation_domain_whitelist)[i])) {
        throw ConfigError("'federation_domain_whitelist[" + std::to_string(i) + "]': '" +
                          (*c.federation_domain_whitelist)[i] + "' is not a valid server name");
      }
    }
  }
  if (YAML::Node list = r.take("trusted_key_servers"); list && !list.IsNull()) {
    c.trusted_key_servers = parse_trusted_key_servers(list);
  }
  if (YAML::Node fed = r.take("federation"); fed && !fed.IsNull()) {
    MapReader f(fed, "federation");
    auto& out = c.federation;
    if (YAML::Node v = f.take("destination_min_retry_interval"); v && !v.IsNull())
      out.destination_min_retry_interval_ms = parse_duration_ms(v, "federation.destination_min_retry_interval");
    if (YAML::Node v = f.take("destination_max_retry_interval"); v && !v.IsNull())
      out.destination_max_retry_interval_ms = parse_duration_ms(v, "federation.destination_max_retry_interval");
    f.read("destination_retry_multiplier", out.destination_retry_multiplier);
    f.finish();
    if (out.destination_min_retry_interval_ms < 1 || out.destination_max_retry_interval_ms < out.destination_min_retry_interval_ms)
      throw ConfigError("'federation.destination_max_retry_interval' must be at least destination_min_retry_interval (> 0)");
    if (!(out.destination_retry_multiplier >= 1.0 && out.destination_retry_multiplier <= 100.0))
      throw ConfigError("'federation.destination_retry_multiplier' must be between 1 and 100");
  }
  if (YAML::Node keys = r.take("old_signing_keys"); keys && !keys.IsNull()) c.old_signing_keys = parse_old_signing_keys(keys);
  r.read("serve_server_wellknown", c.serve_server_wellknown);
  r.read("identity_server_base_url", c.identity_server_base_url);
  r.read("threepid_email_delegate", c.threepid_email_delegate);
  if (!c.threepid_email_delegate.empty() && !c.trusted_identity_servers.contains(c.threepid_email_delegate)) {
    throw ConfigError("'threepid_email_delegate' must name one of trusted_identity_servers");
  }
  r.read("io_threads", c.io_threads);
  r.read("max_request_body_bytes", c.max_request_body_bytes);
  r.read("request_read_timeout_seconds", c.request_read_timeout_seconds);
  r.read("max_connections", c.max_connections);
  r.read("max_connections_per_address", c.max_connections_per_address);
  if (c.max_connections < 1 || c.max_connections_per_address < 1) {
    throw ConfigError("'max_connections' and 'max_connections_per_address' must be at least 1");
  }
  r.read("log_level", c.log_level);
  r.finish();

  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    if (!c.listeners[i].tls) continue;
    const std::string listener = "'listeners[" + std::to_string(i) + "].tls' is true";
    if (c.tls_certificate_path.empty()) {
      throw ConfigError(listener + " but 'tls_certificate_path' is not set (a PEM file with the full certificate chain)");
    }
    if (c.tls_private_key_path.empty()) throw ConfigError(listener + " but 'tls_private_key_path' is not set (a PEM file)");
  }
  if (!is_valid_server_name(c.server_name)) throw ConfigError("'server_name': '" + c.server_name + "' is not a valid server name");
  if (c.public_baseurl.rfind("http://", 0) != 0 && c.public_baseurl.rfind("https://", 0) != 0) {
    throw ConfigError("'public_baseurl' must start with http:// or https://");
  }
  if (c.public_baseurl.back() != '/') c.public_baseurl += '/';
  if (c.io_threads < 1 || c.io_threads > 64) throw ConfigError("'io_threads' must be 1..64");
  if (c.max_request_body_bytes < 1024) throw ConfigError("'max_request_body_bytes' must be at least 1024");
  if (c.request_read_timeout_seconds < 1) throw ConfigError("'request_read_timeout_seconds' must be at least 1");
  int v = 0;
  try {
    v = std::stoi(c.default_room_version);
  } catch (...) {
  }
  if (v < 1 || v > 12 || std::to_string(v) != c.default_room_version) {
    throw ConfigError("'default_room_version': '" + c.default_room_version + "' is not a supported room version (1-12)");
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error" &&
      c.log_level != "off") {
    throw ConfigError("'log_level' must be one of debug, info, warn, error, off");
  }
  return c;
}
}  // namespace

HomeserverConfig load_homeserver_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read configuration file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse_homeserver_config(text.str());
}

HomeserverConfig dev_homeserver_config(const std::filesystem::path& data_dir) {
  HomeserverConfig c;
  c.database.path = (data_dir / "homeserver.db").string();
  c.signing_key_path = (data_dir / "signing.key").string();
  // The identity server `herald dev` runs beside the homeserver.
  c.trusted_identity_servers = {{"127.0.0.1:8090", "http://127.0.0.1:8090"}};
  c.identity_server_base_url = "http://127.0.0.1:8090";
  c.threepid_email_delegate = "127.0.0.1:8090";
  return c;
}

}  // namespace herald::app
