// How other servers find and recognise this one, without authentication:
// GET /_matrix/federation/v1/version (on federation listeners): the implementation's name and version, what
// operators and other servers ask first to see that federation reaches this server;
// GET /.well-known/matrix/server (when serve_server_wellknown is set): delegation to <server_name>:443, as
// Synapse's serve_server_wellknown does.
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

// "example.org" -> "example.org:443"; "example.org:8448", "[::1]:8448" keep their port; "[::1]" -> "[::1]:443".
std::string delegated_server(const std::string& server_name) {
  const auto colon = server_name.rfind(':');
  const auto bracket = server_name.rfind(']');
  const bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  return has_port ? server_name : server_name + ":443";
}

Task<http::Response> get_server_well_known(http::Request, ClientApi& api) {
  if (!api.options.serve_server_wellknown) throw MatrixError(Errc::not_found, "No .well-known/matrix/server here", 404);
  http::Response res = http::Response::json(200, {{"m.server", delegated_server(api.options.server_name)}});
  res.headers.emplace_back("Cache-Control", "max-age=3600");
  co_return res;
}

}  // namespace

void add_federation_version_routes(http::Router& router, ClientApi& api) {
  router.add(http::Method::get, "/_matrix/federation/v1/version", bind_handler(get_federation_version, api));
  router.add(http::Method::get, "/.well-known/matrix/server", bind_handler(get_server_well_known, api));
}

}  // namespace herald::homeserver
