#include "homeserver/federation/federation_knocker.h"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "events/event_builder.h"
#include "events/room_version.h"
#include "federation/federation_client.h"
#include "homeserver/membership/membership_from_template.h"
#include "homeserver/membership/remote_knocks.h"

namespace herald::homeserver {

namespace outbound_knock {

std::string version_query() {
  std::string q;
  for (const auto& v : events::all_room_versions()) {
    if (v.knock) q += (q.empty() ? "?ver=" : "&ver=") + std::string(v.id);
  }
  return q;
}

Template check_template(const nlohmann::json& answer, const std::string& room_id, const std::string& user) {
  if (!answer.is_object()) throw std::runtime_error("the make_knock answer is not an object");
  const auto v = answer.find("room_version");
  if (v == answer.end() || !v->is_string()) throw std::runtime_error("the make_knock answer names no room version");
  const std::string version = v->get<std::string>();
  const events::RoomVersion* known = events::find_room_version(version);
  if (!known) throw std::runtime_error("the room's version " + version + " is not supported here");
  if (!known->knock) throw std::runtime_error("rooms of version " + version + " cannot be knocked on");
  const auto event = answer.find("event");
  if (event == answer.end()) throw std::runtime_error("the make_knock answer has no event");
  check_membership_template(*event, room_id, user, "knock");
  return Template{version, *event};
}

nlohmann::json knock_room_state(const nlohmann::json& answer) {
  if (!answer.is_object()) throw std::runtime_error("the send_knock answer is not an object");
  for (const char* key : {"knock_room_state", "knock_state_events"}) {
    const auto it = answer.find(key);
    if (it != answer.end() && it->is_array()) return *it;
  }
  return nlohmann::json::array();
}

}  // namespace outbound_knock

namespace {

// A 4xx refusal from the resident, passed through where clients know the errcode.
MatrixError refusal(const federation::FederationError& e, const std::string& server) {
  static const std::map<std::string, Errc> known = {
      {"M_FORBIDDEN", Errc::forbidden},
      {"M_INCOMPATIBLE_ROOM_VERSION", Errc::incompatible_room_version},
      {"M_UNSUPPORTED_ROOM_VERSION", Errc::unsupported_room_version},
      {"M_NOT_FOUND", Errc::not_found},
      {"M_LIMIT_EXCEEDED", Errc::limit_exceeded},
  };
  const auto it = known.find(e.errcode);
  const std::string said = e.errcode.empty() ? std::string() : " (" + e.errcode + ")";
  if (it == known.end()) return MatrixError(Errc::unknown, server + " refused the knock" + said, 502);
  return MatrixError(it->second, server + " refused the knock" + said, e.status);
}

constexpr std::size_t kMaxServersTried = 8;

}  // namespace

Task<std::string> FederationKnocker::knock(RemoteKnock knock) {
  std::vector<std::string> servers;
  for (const auto& s : knock.servers) {
    if (s.empty() || s == server_name_ || std::find(servers.begin(), servers.end(), s) != servers.end()) continue;
    servers.push_back(s);
    if (servers.size() == kMaxServersTried) break;
  }
  if (servers.empty()) throw MatrixError(Errc::not_found, "No known servers to knock on the room through");
  std::optional<MatrixError> refused, failed;
  for (const auto& server : servers) {
    try {
      std::string event_id = co_await knock_through(server, knock);
      co_return event_id;
    } catch (const federation::FederationError& e) {
      log::info("remote knock failed room={} user={} server={} status={} errcode={} error={}", knock.room.str(),
                knock.user.str(), server, e.status, e.errcode, e.what());
      if (e.status >= 400 && e.status < 500) {
        MatrixError m = refusal(e, server);
        // The room's version and join rule are the room's on every server: no other will answer differently.
        if (e.errcode == "M_INCOMPATIBLE_ROOM_VERSION") throw m;
        if (!refused) refused = m;
      } else {
        const bool timed_out = std::string(e.what()).find("timed out") != std::string::npos;
        failed = MatrixError(Errc::unknown, "Could not knock through " + server + ": " + e.what(), timed_out ? 504 : 502);
      }
    } catch (const std::runtime_error& e) {
      log::warn("remote knock answer refused room={} user={} server={} error={}", knock.room.str(), knock.user.str(),
                server, e.what());
      failed = MatrixError(Errc::unknown, server + " answered the knock with something unusable: " + e.what(), 502);
    }
  }
  if (refused) throw *refused;
  throw *failed;
}

Task<std::string> FederationKnocker::knock_through(const std::string& server, const RemoteKnock& knock) {
  const std::string room_id = knock.room.str();
  const std::string user = knock.user.str();
  const std::string path_room = strings::percent_encode(room_id);
  std::string make_uri = "/_matrix/federation/v1/make_knock/" + path_room + "/" + strings::percent_encode(user) +
                         outbound_knock::version_query();
  const nlohmann::json answer = co_await client_.get_json(server, std::move(make_uri));
  const outbound_knock::Template tmpl = outbound_knock::check_template(answer, room_id, user);
  const events::RoomVersion& version = *events::find_room_version(tmpl.room_version);
  const events::Signer signer{server_name_, key_};
  const TemplateEvent filled =
      membership_from_template(version, tmpl.event, room_id, user, "knock", knock.content, clock_.now_ms(), signer);

  std::string send_uri = "/_matrix/federation/v1/send_knock/" + path_room + "/" + strings::percent_encode(filled.event_id);
  const nlohmann::json sent = co_await client_.put_json(server, std::move(send_uri), filled.pdu);
  const nlohmann::json state = outbound_knock::knock_room_state(sent);
  nlohmann::json kept = remote_knocks::kept_form(filled.pdu, version, state);
  co_await knocks_.keep(user, room_id, filled.event_id, std::move(kept));
  log::info("knock sent room={} user={} destination={} event={}", room_id, user, server, filled.event_id);
  co_return filled.event_id;
}

}  // namespace herald::homeserver
