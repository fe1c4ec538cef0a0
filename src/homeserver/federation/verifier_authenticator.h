#pragma once
// The federation endpoints' X-Matrix check is the federation layer's request verifier: one implementation
// of request verification for both servers, fetching the origin's keys when they are not known yet.
#include <string>

#include "homeserver/federation_api/inbound_authenticator.h"

namespace herald::federation {
class RequestVerifier;
}

namespace herald::homeserver {

class VerifierAuthenticator final : public InboundAuthenticator {
 public:
  explicit VerifierAuthenticator(federation::RequestVerifier& verifier) : verifier_(verifier) {}
  Task<std::string> authenticate(const http::Request& req) override;

 private:
  federation::RequestVerifier& verifier_;
};

}  // namespace herald::homeserver
