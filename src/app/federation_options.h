#pragma once
// The federation layer's options from a server's configuration. The homeserver and the identity server
// read the same keys (Synapse's names: ip_range_blacklist, ip_range_whitelist,
// federation_verify_certificates, federation_custom_ca_list, trusted_key_servers), so one function
// serves both configs.
#include "app/config.h"
#include "federation/federation_client.h"

namespace herald::app {

template <class Config>
  requires requires(const Config& c) {
    c.ip_range_blacklist;
    c.ip_range_whitelist;
    c.federation_verify_certificates;
    c.federation_custom_ca_list;
    c.trusted_key_servers;
  }
federation::FederationClientOptions federation_client_options(const Config& c) {
  federation::FederationClientOptions o;
  o.ip_range_blacklist = c.ip_range_blacklist;
  o.ip_range_whitelist = c.ip_range_whitelist;
  o.verify_certificates = c.federation_verify_certificates;
  o.custom_ca_files = c.federation_custom_ca_list;
  for (const auto& t : c.trusted_key_servers) o.trusted_key_servers.push_back({t.server_name, t.verify_keys});
  return o;
}

}  // namespace herald::app
