#include "homeserver/accounts/user_interactive_auth.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "crypto/random.h"

namespace herald::homeserver {
namespace {
constexpr std::int64_t kSessionLifetimeMs = 30 * 60 * 1000;
constexpr std::size_t kMaxSessions = 100'000;
}  // namespace

nlohmann::json UserInteractiveAuth::challenge(const std::string& session) const {
  return {{"flows", nlohmann::json::array({{{"stages", {"m.login.dummy"}}}})},
          {"params", nlohmann::json::object()},
          {"session", session}};
}

std::string UserInteractiveAuth::new_session() {
  std::string id = crypto::random_alnum(24);
  const std::int64_t now = clock_.now_ms();
  std::lock_guard lock(mutex_);
  if (sessions_.size() > kMaxSessions) {
    std::erase_if(sessions_, [now](const auto& kv) { return kv.second + kSessionLifetimeMs < now; });
  }
  sessions_.emplace(id, now);
  return id;
}

std::string UserInteractiveAuth::check(const nlohmann::json* auth) {
  if (!auth) return new_session();
  const std::optional<std::string> type = json_body::optional_string(*auth, "type");
  const std::optional<std::string> session = json_body::optional_string(*auth, "session");
  if (session) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(*session);
    if (it == sessions_.end() || it->second + kSessionLifetimeMs < clock_.now_ms()) {
      throw MatrixError(Errc::unknown, "Unknown or expired user-interactive auth session", 400);
    }
  }
  if (!type) return session ? *session : new_session();  // auth with only a session: still incomplete
  if (*type != "m.login.dummy") {
    throw MatrixError(Errc::unrecognized, "Unrecognised or unsupported auth type '" + *type + "'", 400);
  }
  return {};
}

void UserInteractiveAuth::complete(const nlohmann::json* auth) {
  if (!auth) return;
  auto session = auth->find("session");
  if (session == auth->end() || !session->is_string()) return;
  std::lock_guard lock(mutex_);
  sessions_.erase(session->get<std::string>());
}

}  // namespace herald::homeserver
