#include "homeserver/federation/resident_servers.h"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include "core/log.h"
#include "core/matrix_error.h"
#include "federation/federation_client.h"

namespace herald::homeserver::resident_servers {

namespace {
// A 4xx refusal from the resident, passed through where clients know the errcode.
MatrixError refusal(const federation::FederationError& e, const std::string& server, const std::string& what) {
  static const std::map<std::string, Errc> known = {
      {"M_FORBIDDEN", Errc::forbidden},
      {"M_INCOMPATIBLE_ROOM_VERSION", Errc::incompatible_room_version},
      {"M_UNSUPPORTED_ROOM_VERSION", Errc::unsupported_room_version},
      {"M_NOT_FOUND", Errc::not_found},
      {"M_LIMIT_EXCEEDED", Errc::limit_exceeded},
      {"M_UNABLE_TO_AUTHORISE_JOIN", Errc::unable_to_authorise_join},
      {"M_UNABLE_TO_GRANT_JOIN", Errc::unable_to_grant_join},
  };
  const auto it = known.find(e.errcode);
  const std::string said = e.errcode.empty() ? std::string() : " (" + e.errcode + ")";
  if (it == known.end()) {
    // A request the resident found invalid, or an endpoint it lacks, is this server's problem, not the
    // client's (federation.md §7: a 5xx). Any other refusal reaches the client as the resident said it.
    if (e.errcode == "M_INVALID_PARAM" || e.errcode == "M_MISSING_PARAM" || e.errcode == "M_UNRECOGNIZED" ||
        e.errcode == "M_BAD_JSON" || e.errcode == "M_NOT_JSON") {
      return MatrixError(Errc::unknown, server + " refused the " + what + said, 502);
    }
    return MatrixError::from_remote(e.errcode, server + " refused the " + what + said, e.status);
  }
  MatrixError out(it->second, server + " refused the " + what + said, e.status);
  // The room's version, which the client needs to tell the user why (client-server join's 400).
  if (e.error_body.is_object()) {
    if (auto v = e.error_body.find("room_version"); v != e.error_body.end() && v->is_string()) {
      std::move(out).with("room_version", v->get<std::string>());
    }
  }
  return out;
}
}  // namespace

std::vector<std::string> to_try(const std::vector<std::string>& named, const std::string& own, std::size_t max) {
  std::vector<std::string> servers;
  for (const auto& s : named) {
    if (s.empty() || s == own || std::find(servers.begin(), servers.end(), s) != servers.end()) continue;
    servers.push_back(s);
    if (servers.size() == max) break;
  }
  return servers;
}

Task<std::string> first_to_accept(const Attempt& attempt, const std::vector<std::string>& servers,
                                  std::function<Task<std::string>(const std::string& server)>& through) {
  if (servers.empty()) throw MatrixError(Errc::not_found, "No known servers to " + attempt.what + " the room through");
  std::optional<MatrixError> refused, failed;
  for (const auto& server : servers) {
    try {
      std::string result = co_await through(server);
      co_return result;
    } catch (const federation::FederationError& e) {
      log::info("remote {} failed room={} user={} server={} status={} errcode={} error={}", attempt.what, attempt.room_id,
                attempt.user_id, server, e.status, e.errcode, e.what());
      if (e.status >= 400 && e.status < 500) {
        MatrixError m = refusal(e, server, attempt.what);
        if (e.errcode == "M_INCOMPATIBLE_ROOM_VERSION") throw m;
        if (!refused) refused = m;
      } else {
        const bool timed_out = std::string(e.what()).find("timed out") != std::string::npos;
        failed = MatrixError(Errc::unknown, "Could not " + attempt.what + " through " + server + ": " + e.what(),
                             timed_out ? 504 : 502);
      }
    } catch (const std::runtime_error& e) {
      log::warn("remote {} answer refused room={} user={} server={} error={}", attempt.what, attempt.room_id,
                attempt.user_id, server, e.what());
      failed = MatrixError(Errc::unknown, server + " answered the " + attempt.what + " with something unusable: " + e.what(), 502);
    }
  }
  if (refused) throw *refused;
  throw *failed;
}

}  // namespace herald::homeserver::resident_servers
