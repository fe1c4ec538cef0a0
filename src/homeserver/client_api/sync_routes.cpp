// /sync and filters.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/sync/filter_store.h"
#include "homeserver/sync/sync_filter.h"
#include "homeserver/sync/sync_service.h"

namespace herald::homeserver {
namespace {
constexpr std::int64_t kMaxTimeoutMs = 120'000;
constexpr std::size_t kMaxFilterBytes = 65536;

// A stored filter's ID: the decimal number POST /filter answered.
std::int64_t filter_id(const std::string& text) {
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw MatrixError(Errc::not_found, "No such filter");
  }
  return std::stoll(text);
}

Task<http::Response> get_sync(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  SyncRequest r{.user = s.user_id, .device_id = s.device_id};
  if (auto since = req.query_param("since")) {
    auto token = parse_sync_token(*since);
    if (!token) throw MatrixError(Errc::invalid_param, "Invalid 'since' token");
    r.since = token->events;
    if (token->to_device != token->events) r.since_to_device = token->to_device;
  }
  r.timeout = std::chrono::milliseconds(int_query_param(req, "timeout", 0, 0, kMaxTimeoutMs));
  r.full_state = req.query_param("full_state").value_or("false") == "true";
  if (auto f = req.query_param("filter"); f && !f->empty()) {
    if (f->front() == '{') {
      auto parsed = json_body::try_parse(*f);
      if (!parsed) throw MatrixError(Errc::not_json, "The inline filter is not JSON");
      r.filter = SyncFilter::parse(*parsed);
    } else {
      auto text = co_await api.filters.find(s.user_id, filter_id(*f));
      if (!text) throw MatrixError(Errc::not_found, "No such filter");
      r.filter = SyncFilter::parse(nlohmann::json::parse(*text));
    }
  }
  nlohmann::json body = co_await api.sync.sync(r);
  co_return http::Response::json(200, body);
}

void require_own_user(const Session& s, const http::Request& req, ClientApi& api) {
  const UserId target = parse_user_id(req.path_param("userId"), "userId");
  if (target.server_name() != api.options.server_name) throw MatrixError(Errc::forbidden, "Cannot use filters of remote users");
  if (target != s.user_id) throw MatrixError(Errc::forbidden, "Cannot use filters of other users");
}

Task<http::Response> post_filter(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  require_own_user(s, req, api);
  const nlohmann::json body = json_body::parse_object(req.body);
  SyncFilter::parse(body);  // refuses a malformed filter now rather than at every /sync
  std::string text = body.dump();
  if (text.size() > kMaxFilterBytes) throw MatrixError(Errc::too_large, "The filter is too large");
  const std::int64_t id = co_await api.filters.add(s.user_id, std::move(text));
  co_return http::Response::json(200, {{"filter_id", std::to_string(id)}});
}

Task<http::Response> get_filter(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  require_own_user(s, req, api);
  auto text = co_await api.filters.find(s.user_id, filter_id(req.path_param("filterId")));
  if (!text) throw MatrixError(Errc::not_found, "No such filter");
  co_return http::Response::json(200, nlohmann::json::parse(*text));
}

}  // namespace

void add_sync_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixes, Method::get, "/sync", get_sync, api);
  add_under(router, kClientPrefixes, Method::post, "/user/{userId}/filter", post_filter, api);
  add_under(router, kClientPrefixes, Method::get, "/user/{userId}/filter/{filterId}", get_filter, api);
}

}  // namespace herald::homeserver
