// GET /_matrix/client/versions, /.well-known/matrix/client, /capabilities, /health, /metrics.
#include <nlohmann/json.hpp>

#include "core/matrix_error.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/request_auth.h"
#include "http/metrics.h"
#include "http/router.h"

namespace herald::homeserver {
namespace {

Task<http::Response> get_versions(http::Request, ClientApi&) {
  static const nlohmann::json body = {
      {"versions", {"r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1", "v1.1", "v1.2",
                    "v1.3", "v1.4", "v1.5", "v1.6"}},
      {"unstable_features", nlohmann::json::object()}};
  co_return http::Response::json(200, body);
}

Task<http::Response> get_well_known(http::Request, ClientApi& api) {
  nlohmann::json body = {{"m.homeserver", {{"base_url", api.options.public_baseurl}}}};
  if (api.options.identity_server_base_url) body["m.identity_server"] = {{"base_url", *api.options.identity_server_base_url}};
  co_return http::Response::json(200, body);
}

Task<http::Response> get_capabilities(http::Request req, ClientApi& api) {
  co_await require_session(req, api.accounts);
  nlohmann::json available = nlohmann::json::object();
  for (int v = 1; v <= 12; ++v) available[std::to_string(v)] = "stable";
  const nlohmann::json body = {
      {"capabilities",
       {{"m.room_versions", {{"default", api.options.default_room_version}, {"available", available}}},
        {"m.change_password", {{"enabled", false}}},
        {"m.set_displayname", {{"enabled", true}}},
        {"m.set_avatar_url", {{"enabled", true}}},
        {"m.3pid_changes", {{"enabled", false}}}}}};
  co_return http::Response::json(200, body);
}

Task<http::Response> get_health(http::Request, ClientApi&) { co_return http::Response::text(200, "OK"); }

Task<http::Response> get_metrics(http::Request req, ClientApi& api) {
  // Only on a listener with the metrics resource: the public client port does not show it.
  if (!req.listener_serves("metrics")) throw MatrixError(Errc::unrecognized, "Unrecognized request", 404);
  co_return http::Response::text(200, api.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

void add_discovery_routes(http::Router& router, ClientApi& api) {
  router.add(http::Method::get, "/_matrix/client/versions", bind_handler(get_versions, api));
  router.add(http::Method::get, "/.well-known/matrix/client", bind_handler(get_well_known, api));
  add_under(router, kClientPrefixes, http::Method::get, "/capabilities", get_capabilities, api);
  router.add(http::Method::get, "/health", bind_handler(get_health, api));
  router.add(http::Method::get, "/metrics", bind_handler(get_metrics, api));
}

}  // namespace herald::homeserver
