#pragma once
// The one federation layer a server process builds (homeserver and identity server alike): the outbound
// HTTP client with the IP guard and CA settings, SRV lookups, server discovery, the signing federation
// client, the key fetchers (trusted notaries, then direct), the remote key store and the request
// verifier. app/ constructs it from FederationClientOptions; services take the parts they need.
#include <memory>
#include <string>

#include "federation/federation_client.h"

namespace boost::asio {
class io_context;
}
namespace herald {
class Clock;
class WorkerPool;
}  // namespace herald
namespace herald::crypto {
class SigningKey;
}
namespace herald::http {
class Client;
}

namespace herald::federation {

class KeyPersistence;
class RemoteKeyStore;
class RequestVerifier;
class ServerDiscovery;
class StaticServerKeyRing;

struct FederationLayerParts {
  std::string server_name;                     // this server's name (origin of what it signs)
  const crypto::SigningKey* key = nullptr;     // signs outbound requests
  KeyPersistence* persistence = nullptr;       // the homeserver's database; null: memory only
  StaticServerKeyRing* fill = nullptr;         // the event pipeline's ring, filled with fetched keys
  std::string verifier_destination_key = "destination";  // "destination_is" on an identity server
};

class FederationLayer {
 public:
  // `outbound` runs every outbound call on its own thread; `workers` runs the blocking SRV lookups.
  // Throws std::runtime_error for a bad CA file, IP range or notary key (naming it).
  FederationLayer(boost::asio::io_context& outbound, WorkerPool& workers, const Clock& clock, FederationClientOptions options,
                  FederationLayerParts parts);
  ~FederationLayer();
  FederationLayer(const FederationLayer&) = delete;
  FederationLayer& operator=(const FederationLayer&) = delete;

  http::Client& http();
  ServerDiscovery& discovery();
  FederationClient& client();
  RemoteKeyStore& keys();
  RequestVerifier& verifier();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace herald::federation
