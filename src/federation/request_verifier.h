#pragma once
// Checks the X-Matrix signature of an inbound server-to-server request (federation.md §4) and names the
// server that sent it.
//
//   federation::RequestVerifier& verifier = ...;   // built by app/ with this server's name
//   const std::string origin = co_await verifier.verify(req);   // or MatrixError 401 M_UNAUTHORIZED
//
// Refusals (all MatrixError(Errc::unauthorized, ..., 401)): no Authorization header; a header that is not
// X-Matrix or lacks origin/key/sig; an origin that is not a server name; headers naming different
// origins; a destination that is not this server; a body that is not JSON; a key the origin does not
// publish (fetched through the key store, current keys only); a signature that does not verify.
// Several headers (one per signature) are accepted; one valid signature is enough, none may be invalid.
#include <string>
#include <vector>

#include "core/task.h"
#include "http/request.h"

namespace herald::federation {

class RequestKeySource;

class RequestVerifier {
 public:
  // `destination_key` is "destination" for federation, "destination_is" for requests to an identity
  // server (identity.md §5).
  RequestVerifier(std::string server_name, RequestKeySource& keys, std::string destination_key = "destination");

  // `req.target` is the path and query exactly as received (what the sender signed).
  Task<std::string> verify(const http::Request& req);

  // The same from parts: `uri` = path and query as sent; `authorization` = every Authorization header.
  Task<std::string> verify(http::Method method, std::string uri, std::string body, std::vector<std::string> authorization);

  const std::string& server_name() const { return server_name_; }

 private:
  std::string server_name_;
  RequestKeySource& keys_;
  std::string destination_key_;
};

}  // namespace herald::federation
