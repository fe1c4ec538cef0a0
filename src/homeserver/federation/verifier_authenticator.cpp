#include "homeserver/federation/verifier_authenticator.h"

#include "federation/request_verifier.h"

namespace herald::homeserver {

Task<std::string> VerifierAuthenticator::authenticate(const http::Request& req) {
  std::string origin = co_await verifier_.verify(req);
  co_return origin;
}

}  // namespace herald::homeserver
