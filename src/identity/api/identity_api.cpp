#include "identity/api/identity_api.h"

#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "http/request.h"

namespace herald::identity {

void add_identity_route(http::Router& router, IdentityContext& ctx, http::Method method, std::string_view suffix,
                        IdentityHandler fn, bool with_v1) {
  router.add(method, std::string(kV2) + std::string(suffix),
             [fn, &ctx](http::Request req) { return fn(std::move(req), ctx, ApiVersion::v2); });
  if (with_v1) {
    router.add(method, std::string(kV1) + std::string(suffix),
               [fn, &ctx](http::Request req) { return fn(std::move(req), ctx, ApiVersion::v1); });
  }
}

nlohmann::json request_params(const http::Request& req, ApiVersion version) {
  nlohmann::json params = nlohmann::json::object();
  const bool looks_like_json = req.body.find_first_not_of(" \t\r\n") != std::string::npos &&
                               req.body[req.body.find_first_not_of(" \t\r\n")] == '{';
  if (looks_like_json || (version == ApiVersion::v2 && !req.body.empty())) {
    params = json_body::parse_object(req.body);
  } else if (!req.body.empty()) {
    for (auto& [k, v] : http::parse_query(req.body)) params[k] = v;  // legacy form-encoded body
  }
  if (version == ApiVersion::v1) {
    for (const auto& [k, v] : req.query)
      if (!params.contains(k)) params[k] = v;
  }
  return params;
}

void add_identity_routes(http::Router& router, IdentityContext& ctx) {
  add_status_and_account_routes(router, ctx);
  add_key_routes(router, ctx);
  add_validation_routes(router, ctx);
  add_lookup_routes(router, ctx);
  add_invite_routes(router, ctx);
}

}  // namespace herald::identity
