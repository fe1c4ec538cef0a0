#include "federation/federation_layer.h"

#include "federation/key_fetcher.h"
#include "federation/remote_key_store.h"
#include "federation/request_verifier.h"
#include "federation/server_discovery.h"
#include "federation/srv_resolver.h"
#include "http/client.h"
#include "http/ip_range.h"

namespace herald::federation {
namespace {

http::IpGuard guard_of(const FederationClientOptions& o) {
  try {
    return http::IpGuard(o.ip_range_blacklist.empty() ? http::default_ip_range_blacklist() : o.ip_range_blacklist,
                         o.ip_range_whitelist);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("ip_range_blacklist/ip_range_whitelist: ") + e.what());
  }
}

std::vector<KeyFetcher*> pointers(const std::vector<std::unique_ptr<KeyFetcher>>& fetchers) {
  std::vector<KeyFetcher*> out;
  for (const auto& f : fetchers) out.push_back(f.get());
  return out;
}

}  // namespace

struct FederationLayer::Parts {
  Parts(boost::asio::io_context& outbound, WorkerPool& workers, const Clock& clock, FederationClientOptions o,
        FederationLayerParts p)
      : http(outbound, guard_of(o), http::ClientTlsOptions{o.verify_certificates, o.custom_ca_files}),
        srv(workers),
        getter(http),
        discovery(getter, srv, clock),
        client(http, discovery, p.server_name, p.key, o.destination_overrides, o.request_timeout),
        fetchers(make_fetchers(client, o)),
        keys(outbound, pointers(fetchers), clock, p.persistence, p.fill),
        verifier(p.server_name, keys, p.verifier_destination_key) {}

  static std::vector<std::unique_ptr<KeyFetcher>> make_fetchers(FederationClient& client, const FederationClientOptions& o) {
    std::vector<std::unique_ptr<KeyFetcher>> out;
    for (const auto& notary : o.trusted_key_servers) out.push_back(std::make_unique<NotaryKeyFetcher>(client, notary));
    out.push_back(std::make_unique<DirectKeyFetcher>(client));
    return out;
  }

  http::Client http;
  SystemSrvResolver srv;
  ClientWellKnownGetter getter;
  ServerDiscovery discovery;
  FederationClient client;
  std::vector<std::unique_ptr<KeyFetcher>> fetchers;
  RemoteKeyStore keys;
  RequestVerifier verifier;
};

FederationLayer::FederationLayer(boost::asio::io_context& outbound, WorkerPool& workers, const Clock& clock,
                                 FederationClientOptions options, FederationLayerParts parts)
    : parts_(std::make_unique<Parts>(outbound, workers, clock, std::move(options), std::move(parts))) {}
FederationLayer::~FederationLayer() = default;

http::Client& FederationLayer::http() { return parts_->http; }
ServerDiscovery& FederationLayer::discovery() { return parts_->discovery; }
FederationClient& FederationLayer::client() { return parts_->client; }
RemoteKeyStore& FederationLayer::keys() { return parts_->keys; }
RequestVerifier& FederationLayer::verifier() { return parts_->verifier; }

}  // namespace herald::federation
