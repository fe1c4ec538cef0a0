#include "identity/onbind/homeserver_locator.h"

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "http/client.h"

namespace herald::identity {
namespace {

bool has_port_or_is_ip(const std::string& name) {
  if (!name.empty() && name.front() == '[') return true;
  const auto colon = name.rfind(':');
  if (colon != std::string::npos) return true;
  bool all_digits_and_dots = !name.empty();
  for (char c : name)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.')) all_digits_and_dots = false;
  return all_digits_and_dots;
}

}  // namespace

HomeserverLocator::HomeserverLocator(std::map<std::string, std::string> configured, http::Client& client)
    : configured_(std::move(configured)), client_(client) {
  for (auto& [name, url] : configured_)
    while (!url.empty() && url.back() == '/') url.pop_back();
}

Task<HomeserverTarget> HomeserverLocator::locate(std::string server_name) {
  if (auto it = configured_.find(server_name); it != configured_.end()) co_return HomeserverTarget{it->second, true};
  if (!is_valid_server_name(server_name)) throw MatrixError(Errc::invalid_param, "not a valid server name: " + server_name);
  if (has_port_or_is_ip(server_name)) co_return HomeserverTarget{"https://" + server_name, false};
  http::ClientRequest req;
  req.url = "https://" + server_name + "/.well-known/matrix/server";
  req.timeout = std::chrono::seconds(5);
  req.response_limit = 16 * 1024;
  try {
    const http::ClientResponse res = co_await client_.send(std::move(req));
    if (res.status == 200) {
      const auto body = nlohmann::json::parse(res.body, nullptr, false);
      if (body.is_object() && body.contains("m.server") && body["m.server"].is_string()) {
        const std::string delegated = body["m.server"].get<std::string>();
        if (is_valid_server_name(delegated)) {
          co_return HomeserverTarget{"https://" + delegated + (has_port_or_is_ip(delegated) ? "" : ":8448"), false};
        }
      }
    }
  } catch (const http::ClientError& e) {
    log::debug("well-known lookup failed server={} error={}", server_name, e.what());
  }
  co_return HomeserverTarget{"https://" + server_name + ":8448", false};
}

}  // namespace herald::identity
