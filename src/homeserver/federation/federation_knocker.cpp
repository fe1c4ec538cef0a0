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
#include "homeserver/federation/resident_servers.h"
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

Task<std::string> FederationKnocker::knock(RemoteKnock knock) {
  const std::vector<std::string> servers = resident_servers::to_try(knock.servers, server_name_);
  const resident_servers::Attempt attempt{"knock", knock.room.str(), knock.user.str()};
  std::function<Task<std::string>(const std::string&)> through = [this, &knock](const std::string& server) {
    return knock_through(server, knock);
  };
  std::string event_id = co_await resident_servers::first_to_accept(attempt, servers, through);
  co_return event_id;
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
