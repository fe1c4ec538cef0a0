#pragma once
// A membership event of a local user built from a resident server's template (the answer of make_join,
// make_leave or make_knock; federation.md §7-8). The template is untrusted: it must be the membership
// asked for, of the user asked for, in the room asked for. It is then completed as any event this server
// sends: origin_server_ts, content hash, this server's signature over the redacted form, and the event
// ID in the room version's format (v1-2: named on this server). Shared by the outbound join and leave.
//
//   const TemplateEvent leave = membership_from_template(version, answer["event"], room_id, user_id, "leave",
//                                                        nlohmann::json::object(), clock.now_ms(), signer);
//   // PUT /_matrix/federation/v2/send_leave/{room_id}/{leave.event_id} with leave.pdu
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "events/event_builder.h"

namespace herald::events {
struct RoomVersion;
}

namespace herald::homeserver {

// A template that is not what was asked for, or cannot be signed; the message says what is wrong.
struct InvalidTemplate : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TemplateEvent {
  std::string event_id;
  nlohmann::json pdu;  // the federation form, signed by this server
  events::EventPtr event;
};

// Throws InvalidTemplate unless `event` is an object of type m.room.member for `room_id` whose sender and
// state_key are `user_id`, whose content.membership is `membership`, with prev_events and auth_events
// arrays and an integer depth.
void check_membership_template(const nlohmann::json& event, const std::string& room_id, const std::string& user_id,
                               std::string_view membership);

// The checked template completed and signed by `signer`. `extra_content` is merged into the content
// (a joiner's displayname, say); it cannot change the membership. What the template carried in hashes,
// signatures, unsigned, event_id and origin_server_ts is replaced. Throws InvalidTemplate.
TemplateEvent membership_from_template(const events::RoomVersion& version, const nlohmann::json& event,
                                       const std::string& room_id, const std::string& user_id,
                                       std::string_view membership, const nlohmann::json& extra_content,
                                       std::int64_t origin_server_ts, const events::Signer& signer);

}  // namespace herald::homeserver
