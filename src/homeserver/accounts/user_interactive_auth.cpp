#include "homeserver/accounts/user_interactive_auth.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "core/strings.h"
#include "crypto/random.h"
#include "homeserver/accounts/account_service.h"

namespace herald::homeserver {
namespace {
constexpr std::int64_t kSessionLifetimeMs = 30 * 60 * 1000;
constexpr std::size_t kMaxSessions = 100'000;
constexpr std::size_t kMaxPasswordBytes = 512;
constexpr std::string_view kPassword = "m.login.password";

// The user an m.login.password auth dict names: `identifier` (m.id.user) or the legacy `user`. nullopt when
// it names no local user in a form we accept; the caller treats that like a wrong password.
std::optional<std::string> named_user(const nlohmann::json& auth, const std::string& server_name) {
  std::optional<std::string> user;
  if (const nlohmann::json* identifier = json_body::optional_object(auth, "identifier")) {
    if (json_body::required_string(*identifier, "type") != "m.id.user") return std::nullopt;
    user = json_body::required_string(*identifier, "user");
  } else {
    user = json_body::optional_string(auth, "user");
  }
  if (!user) throw MatrixError(Errc::missing_param, "Missing 'identifier' in auth");
  if (user->empty() || user->size() > 255) return std::nullopt;
  if (user->front() == '@') {
    auto id = UserId::parse(*user);
    if (!id || id->server_name() != server_name) return std::nullopt;
    return UserId::from_parts(strings::to_lower_ascii(id->localpart()), server_name).str();
  }
  return UserId::from_parts(strings::to_lower_ascii(*user), server_name).str();
}
}  // namespace

nlohmann::json UserInteractiveAuth::challenge(const std::string& session) const {
  return {{"flows", nlohmann::json::array({{{"stages", {"m.login.dummy"}}}})},
          {"params", nlohmann::json::object()},
          {"session", session}};
}

nlohmann::json UserInteractiveAuth::password_challenge(const std::string& session,
                                                       const std::vector<std::string>& completed) const {
  return {{"flows", nlohmann::json::array({{{"stages", {kPassword}}}})},
          {"params", nlohmann::json::object()},
          {"session", session},
          {"completed", completed}};
}

std::string UserInteractiveAuth::new_session() { return new_session_for(""); }

std::string UserInteractiveAuth::new_session_for(std::string user_id) {
  std::string id = crypto::random_alnum(24);
  const std::int64_t now = clock_.now_ms();
  std::lock_guard lock(mutex_);
  if (sessions_.size() > kMaxSessions) {
    std::erase_if(sessions_, [now](const auto& kv) { return kv.second.created_ms + kSessionLifetimeMs < now; });
  }
  sessions_.emplace(id, Session{now, std::move(user_id), {}});
  return id;
}

std::string UserInteractiveAuth::check(const nlohmann::json* auth) {
  if (!auth) return new_session();
  const std::optional<std::string> type = json_body::optional_string(*auth, "type");
  const std::optional<std::string> session = json_body::optional_string(*auth, "session");
  if (session) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(*session);
    if (it == sessions_.end() || it->second.created_ms + kSessionLifetimeMs < clock_.now_ms() ||
        !it->second.user_id.empty()) {
      throw MatrixError(Errc::unknown, "Unknown or expired user-interactive auth session", 400);
    }
  }
  if (!type) return session ? *session : new_session();  // auth with only a session: still incomplete
  if (*type != "m.login.dummy") {
    throw MatrixError(Errc::unrecognized, "Unrecognised or unsupported auth type '" + *type + "'", 400);
  }
  return {};
}

Task<std::optional<nlohmann::json>> UserInteractiveAuth::require_password(UserId user,
                                                                          std::optional<nlohmann::json> auth) {
  const std::string user_id = user.str();
  if (!auth) co_return password_challenge(new_session_for(user_id), {});
  const std::optional<std::string> type = json_body::optional_string(*auth, "type");
  const std::optional<std::string> session = json_body::optional_string(*auth, "session");

  std::string session_id;
  std::vector<std::string> completed;
  if (session) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(*session);
    if (it == sessions_.end() || it->second.created_ms + kSessionLifetimeMs < clock_.now_ms() ||
        it->second.user_id != user_id) {
      throw MatrixError(Errc::unknown, "Unknown or expired user-interactive auth session", 400);
    }
    session_id = *session;
    completed = it->second.completed;
  } else {
    session_id = new_session_for(user_id);
  }
  const bool done = std::find(completed.begin(), completed.end(), kPassword) != completed.end();
  if (!type) {
    if (done) co_return std::nullopt;  // a retry of a request whose stages are all complete
    co_return password_challenge(session_id, completed);
  }
  if (*type != kPassword) {
    throw MatrixError(Errc::unrecognized, "Unrecognised or unsupported auth type '" + *type + "'", 400);
  }
  const std::optional<std::string> named = named_user(*auth, accounts_.server_name());
  const std::string password = json_body::required_string(*auth, "password");

  limiter_.throw_if_waiting(RateAction::login, user_id);
  bool ok = named == user_id && password.size() <= kMaxPasswordBytes;
  if (ok) ok = co_await accounts_.check_password(user, password);
  if (!ok) {
    limiter_.try_take(RateAction::login, user_id);
    nlohmann::json body = password_challenge(session_id, completed);
    body["errcode"] = "M_FORBIDDEN";
    body["error"] = "Invalid password";
    co_return body;
  }
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(session_id); it != sessions_.end() && !done) {
    it->second.completed.emplace_back(kPassword);
  }
  co_return std::nullopt;
}

void UserInteractiveAuth::complete(const nlohmann::json* auth) {
  if (!auth) return;
  auto session = auth->find("session");
  if (session == auth->end() || !session->is_string()) return;
  std::lock_guard lock(mutex_);
  sessions_.erase(session->get<std::string>());
}

}  // namespace herald::homeserver
