// GET /pushrules/: the spec's server-default push rules for the user (clients such as matrix-js-sdk
// need them before they sync). Changing rules (PUT/DELETE) is not offered yet.
#include <nlohmann/json.hpp>

#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/request_auth.h"

namespace herald::homeserver {
namespace {

nlohmann::json rule(const char* id, nlohmann::json conditions, nlohmann::json actions, bool enabled = true) {
  return {{"rule_id", id}, {"default", true}, {"enabled", enabled}, {"conditions", conditions}, {"actions", actions}};
}

nlohmann::json event_match(const char* key, const std::string& pattern) {
  return {{"kind", "event_match"}, {"key", key}, {"pattern", pattern}};
}

nlohmann::json default_ruleset(const UserId& user) {
  const nlohmann::json notify_sound = {"notify", {{"set_tweak", "sound"}, {"value", "default"}}};
  const nlohmann::json notify_highlight = {"notify", {{"set_tweak", "sound"}, {"value", "default"}}, {{"set_tweak", "highlight"}}};
  nlohmann::json override_rules = nlohmann::json::array({
      rule(".m.rule.master", nlohmann::json::array(), nlohmann::json::array(), false),
      rule(".m.rule.suppress_notices", {event_match("content.msgtype", "m.notice")}, nlohmann::json::array()),
      rule(".m.rule.invite_for_me",
           {event_match("type", "m.room.member"), event_match("content.membership", "invite"),
            event_match("state_key", user.str())},
           notify_sound),
      rule(".m.rule.member_event", {event_match("type", "m.room.member")}, nlohmann::json::array()),
      rule(".m.rule.is_user_mention",
           {{{"kind", "event_property_contains"}, {"key", "content.m\\.mentions.user_ids"}, {"value", user.str()}}},
           notify_highlight),
      rule(".m.rule.tombstone", {event_match("type", "m.room.tombstone"), event_match("state_key", "")},
           {"notify", {{"set_tweak", "highlight"}}}),
  });
  nlohmann::json content_rules = nlohmann::json::array({
      {{"rule_id", ".m.rule.contains_user_name"}, {"default", true}, {"enabled", true},
       {"pattern", std::string(user.localpart())}, {"actions", notify_highlight}},
  });
  nlohmann::json underride = nlohmann::json::array({
      rule(".m.rule.room_one_to_one",
           {{{"kind", "room_member_count"}, {"is", "2"}}, event_match("type", "m.room.message")}, notify_sound),
      rule(".m.rule.message", {event_match("type", "m.room.message")}, {"notify"}),
      rule(".m.rule.encrypted", {event_match("type", "m.room.encrypted")}, {"notify"}),
  });
  return {{"override", override_rules}, {"content", content_rules}, {"room", nlohmann::json::array()},
          {"sender", nlohmann::json::array()}, {"underride", underride}};
}

Task<http::Response> get_push_rules(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  co_return http::Response::json(200, {{"global", default_ruleset(s.user_id)}});
}

Task<http::Response> get_global_push_rules(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  co_return http::Response::json(200, default_ruleset(s.user_id));
}

}  // namespace

void add_push_rules_routes(http::Router& router, ClientApi& api) {
  add_under(router, kClientPrefixesWithV1, http::Method::get, "/pushrules/", get_push_rules, api);
  add_under(router, kClientPrefixesWithV1, http::Method::get, "/pushrules/global/", get_global_push_rules, api);
}

}  // namespace herald::homeserver
