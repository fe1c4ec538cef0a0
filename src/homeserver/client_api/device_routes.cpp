// Devices: GET /devices, GET/PUT/DELETE /devices/{deviceId}, POST /delete_devices. Deleting asks the user's
// password again (user-interactive auth, m.login.password).
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/accounts/user_interactive_auth.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/request_auth.h"

namespace herald::homeserver {
namespace {
constexpr std::size_t kMaxDeviceIdBytes = 255;
constexpr std::size_t kMaxDisplayNameBytes = 512;
constexpr std::size_t kMaxDevicesPerDelete = 1000;

nlohmann::json device_json(const DeviceInfo& d) {
  nlohmann::json out = {{"device_id", d.device_id}};
  if (d.display_name) out["display_name"] = *d.display_name;
  if (d.last_seen_ts) out["last_seen_ts"] = *d.last_seen_ts;
  if (d.last_seen_ip) out["last_seen_ip"] = *d.last_seen_ip;
  return out;
}

std::string device_id_param(const http::Request& req) {
  const std::string& id = req.path_param("deviceId");
  if (id.empty() || id.size() > kMaxDeviceIdBytes) throw MatrixError(Errc::not_found, "Unknown device");
  return id;
}

Task<http::Response> get_devices(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::vector<DeviceInfo> devices = co_await api.accounts.devices(s.user_id);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : devices) list.push_back(device_json(d));
  co_return http::Response::json(200, {{"devices", std::move(list)}});
}

Task<http::Response> get_device(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::optional<DeviceInfo> device = co_await api.accounts.device(s.user_id, device_id_param(req));
  if (!device) throw MatrixError(Errc::not_found, "Unknown device");
  co_return http::Response::json(200, device_json(*device));
}

Task<http::Response> put_device(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::string device_id = device_id_param(req);
  const nlohmann::json body = json_body::parse_object(req.body);
  const std::optional<std::string> name = json_body::optional_string(body, "display_name");
  if (name && name->size() > kMaxDisplayNameBytes) throw MatrixError(Errc::invalid_param, "'display_name' is too long");
  // Without display_name nothing changes, but an unknown device is still an error.
  const bool found = name ? co_await api.accounts.rename_device(s.user_id, device_id, name)
                          : (co_await api.accounts.device(s.user_id, device_id)).has_value();
  if (!found) throw MatrixError(Errc::not_found, "Unknown device");
  co_return http::Response::json(200, nlohmann::json::object());
}

std::optional<nlohmann::json> auth_of(const nlohmann::json& body) {
  if (const nlohmann::json* a = json_body::optional_object(body, "auth")) return *a;
  return std::nullopt;
}

// Runs the password stage; returns the 401 to answer with, or nullopt once the user proved it is them.
Task<std::optional<http::Response>> password_auth(UserId user, std::optional<nlohmann::json> auth, ClientApi& api) {
  std::optional<nlohmann::json> challenge = co_await api.uia.require_password(std::move(user), std::move(auth));
  if (challenge) co_return http::Response::json(401, *challenge);
  co_return std::nullopt;
}

Task<http::Response> delete_device(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::string device_id = device_id_param(req);
  const nlohmann::json body = json_body::parse_object_or_empty(req.body);
  if (auto challenge = co_await password_auth(s.user_id, auth_of(body), api)) co_return std::move(*challenge);
  std::vector<std::string> ids{device_id};
  co_await api.accounts.delete_devices(s.user_id, std::move(ids));  // an unknown device is already gone: 200
  api.uia.complete(json_body::optional_object(body, "auth"));
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> post_delete_devices(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const nlohmann::json body = json_body::parse_object(req.body);
  const nlohmann::json* list = json_body::optional_array(body, "devices");
  if (!list) throw MatrixError(Errc::missing_param, "Missing 'devices'");
  if (list->size() > kMaxDevicesPerDelete) throw MatrixError(Errc::invalid_param, "Too many devices at once");
  std::vector<std::string> ids;
  for (const auto& d : *list) {
    if (!d.is_string()) throw MatrixError(Errc::bad_json, "'devices' must be a list of device IDs");
    if (d.get_ref<const std::string&>().size() > kMaxDeviceIdBytes) continue;  // no such device can exist
    ids.push_back(d.get<std::string>());
  }
  if (auto challenge = co_await password_auth(s.user_id, auth_of(body), api)) co_return std::move(*challenge);
  co_await api.accounts.delete_devices(s.user_id, std::move(ids));
  api.uia.complete(json_body::optional_object(body, "auth"));
  co_return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_device_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixes, Method::get, "/devices", get_devices, api);
  add_under(router, kClientPrefixes, Method::get, "/devices/{deviceId}", get_device, api);
  add_under(router, kClientPrefixes, Method::put, "/devices/{deviceId}", put_device, api);
  add_under(router, kClientPrefixes, Method::delete_, "/devices/{deviceId}", delete_device, api);
  add_under(router, kClientPrefixes, Method::post, "/delete_devices", post_delete_devices, api);
}

}  // namespace herald::homeserver
