// Profiles: displayname and avatar_url, carried into member events.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/membership/remote_queries.h"
#include "homeserver/rooms/room_service.h"

namespace herald::homeserver {
namespace {
constexpr std::size_t kMaxProfileValue = 1024;

bool is_remote(const UserId& id, const ClientApi& api) { return id.server_name() != api.options.server_name; }

Task<http::Response> get_profile(http::Request req, ClientApi& api) {
  const UserId id = parse_user_id(req.path_param("userId"), "userId");
  if (is_remote(id, api)) {
    std::optional<std::string> whole_profile;
    auto remote = co_await api.remote_queries.profile(id, whole_profile);
    if (!remote) throw MatrixError(Errc::not_found, "Profile was not found");
    co_return http::Response::json(200, *remote);
  }
  auto user = co_await api.accounts.profile(id);
  if (!user) throw MatrixError(Errc::not_found, "Profile was not found");
  nlohmann::json out = nlohmann::json::object();
  if (user->displayname) out["displayname"] = *user->displayname;
  if (user->avatar_url) out["avatar_url"] = *user->avatar_url;
  co_return http::Response::json(200, out);
}

Task<http::Response> get_profile_field(http::Request req, ClientApi& api) {
  const UserId id = parse_user_id(req.path_param("userId"), "userId");
  const std::string field = req.path_param("keyName");
  if (field != "displayname" && field != "avatar_url") throw MatrixError(Errc::not_found, "Profile field not found");
  if (is_remote(id, api)) {
    std::optional<std::string> asked = field;
    auto remote = co_await api.remote_queries.profile(id, asked);
    if (!remote) throw MatrixError(Errc::not_found, "Profile field not set");
    co_return http::Response::json(200, *remote);
  }
  auto user = co_await api.accounts.profile(id);
  if (!user) throw MatrixError(Errc::not_found, "Profile was not found");
  const auto& value = field == "displayname" ? user->displayname : user->avatar_url;
  if (!value) throw MatrixError(Errc::not_found, "Profile field not set");
  co_return http::Response::json(200, {{field, *value}});
}

Task<http::Response> put_profile_field(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const UserId id = parse_user_id(req.path_param("userId"), "userId");
  if (id != s.user_id) throw MatrixError(Errc::forbidden, "You cannot change another user's profile");
  const std::string field = req.path_param("keyName");
  if (field != "displayname" && field != "avatar_url") throw MatrixError(Errc::unrecognized, "Unknown profile field", 400);
  const nlohmann::json body = json_body::parse_object(req.body);
  if (!body.contains(field)) throw MatrixError(Errc::missing_param, "Missing '" + field + "'");
  std::optional<std::string> value = json_body::optional_string(body, field);
  if (value && value->size() > kMaxProfileValue) throw MatrixError(Errc::invalid_param, "'" + field + "' is too long");
  if (value && value->empty()) value.reset();
  const bool displayname = field == "displayname";
  // Locals, not ?: temporaries, inside co_await: GCC 12 double-frees those (toolchain.md).
  std::optional<std::string> new_displayname, new_avatar;
  if (displayname) new_displayname = value;
  else new_avatar = value;
  co_await api.rooms.set_profile(s.user_id, new_displayname, new_avatar, displayname, !displayname);
  co_return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_profile_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixesWithV1, Method::get, "/profile/{userId}", get_profile, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/profile/{userId}/{keyName}", get_profile_field, api);
  add_under(router, kClientPrefixesWithV1, Method::put, "/profile/{userId}/{keyName}", put_profile_field, api);
}

}  // namespace herald::homeserver
