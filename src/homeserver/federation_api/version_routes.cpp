// GET /_matrix/federation/v1/version (no authentication): the implementation's name and version, what
// operators and other servers ask first to see that federation reaches this server.
#include <nlohmann/json.hpp>

#include "core/matrix_error.h"
#include "homeserver/client_api/client_api.h"

namespace herald::homeserver {
namespace {

Task<http::Response> get_federation_version(http::Request req, ClientApi&) {
  if (!req.listener_serves("federation")) throw MatrixError(Errc::unrecognized, "Unrecognized request", 404);
  static const nlohmann::json body = {{"server", {{"name", "Herald"}, {"version", HERALD_VERSION}}}};
  co_return http::Response::json(200, body);
}

}  // namespace

void add_federation_version_routes(http::Router& router, ClientApi& api) {
  router.add(http::Method::get, "/_matrix/federation/v1/version", bind_handler(get_federation_version, api));
}

}  // namespace herald::homeserver
