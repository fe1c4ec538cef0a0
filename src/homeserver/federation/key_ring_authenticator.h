#pragma once
// X-Matrix request authentication (federation.md §4) against keys already known: the server's own and
// those in a ServerKeyRing. An origin whose key is not in the ring gets 401; fetching remote keys is the
// federation layer's request verifier, which takes this one's place.
#include <string>

#include "homeserver/federation_api/inbound_authenticator.h"

namespace herald {
class Clock;
}

namespace herald::homeserver {

class ServerKeyRing;

class KeyRingAuthenticator final : public InboundAuthenticator {
 public:
  KeyRingAuthenticator(const ServerKeyRing& keys, std::string server_name, const Clock& clock)
      : keys_(keys), server_name_(std::move(server_name)), clock_(clock) {}

  Task<std::string> authenticate(const http::Request& req) override;
  // The same, synchronously (no I/O): the origin, or MatrixError 401 (400 M_NOT_JSON for a body that is
  // not JSON).
  std::string verify(const http::Request& req) const;

 private:
  const ServerKeyRing& keys_;
  std::string server_name_;
  const Clock& clock_;
};

}  // namespace herald::homeserver
