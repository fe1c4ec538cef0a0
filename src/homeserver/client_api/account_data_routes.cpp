// Account data: GET/PUT /user/{userId}/account_data/{type} and the per-room
// /user/{userId}/rooms/{roomId}/account_data/{type}.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "homeserver/accounts/account_data_service.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"

namespace herald::homeserver {
namespace {

void require_own(const Session& s, const http::Request& req) {
  const UserId target = parse_user_id(req.path_param("userId"), "userId");
  if (target != s.user_id) throw MatrixError(Errc::forbidden, "Cannot access account data of other users");
}

// The room of a per-room route ("" for the global routes).
std::string room_of(const http::Request& req) {
  for (const auto& [k, v] : req.path_params)
    if (k == "roomId") return room_id_param(req).str();
  return "";
}

Task<http::Response> put_account_data(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  require_own(s, req);
  nlohmann::json content = json_body::parse_object(req.body);
  api.limiter.take_or_throw(RateAction::account_data, s.user_id.str());
  co_await api.account_data.set(s.user_id, room_of(req), req.path_param("type"), std::move(content));
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> get_account_data(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  require_own(s, req);
  auto content = co_await api.account_data.get(s.user_id, room_of(req), req.path_param("type"));
  if (!content) throw MatrixError(Errc::not_found, "Account data not found");
  co_return http::Response::json(200, *content);
}

}  // namespace

void add_account_data_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixesWithV1, Method::put, "/user/{userId}/account_data/{type}", put_account_data, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/user/{userId}/account_data/{type}", get_account_data, api);
  add_under(router, kClientPrefixesWithV1, Method::put, "/user/{userId}/rooms/{roomId}/account_data/{type}",
            put_account_data, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/user/{userId}/rooms/{roomId}/account_data/{type}",
            get_account_data, api);
}

}  // namespace herald::homeserver
