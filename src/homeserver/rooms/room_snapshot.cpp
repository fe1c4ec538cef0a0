#include "homeserver/rooms/room_snapshot.h"

#include <deque>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "events/event_builder.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "federation/server_key_ring.h"
#include "homeserver/rooms/pdu_checks.h"
#include "rooms/auth/auth_rules.h"

namespace herald::homeserver {
using events::EventPtr;

namespace {

// Both lists, each object once (by its position), with whether it came from `state`.
struct Listed {
  const nlohmann::json* pdu;
  bool in_state;
};
std::vector<Listed> listed(const nlohmann::json& state, const nlohmann::json& auth_chain) {
  std::vector<Listed> out;
  if (state.is_array())
    for (const auto& p : state) out.push_back({&p, true});
  if (auth_chain.is_array())
    for (const auto& p : auth_chain) out.push_back({&p, false});
  return out;
}

// One event of the snapshot, verified as far as its own PDU goes (signatures and hash).
struct Checked {
  EventPtr event;
  bool in_state = false;
  std::vector<std::string> auth_ids;
};

}  // namespace

std::vector<SnapshotKey> snapshot_keys(const events::RoomVersion& version, const nlohmann::json& state,
                                       const nlohmann::json& auth_chain) {
  std::map<std::pair<std::string, std::string>, std::int64_t> newest;
  for (const auto& [pdu, in_state] : listed(state, auth_chain)) {
    if (!pdu->is_object() || !pdu->contains("sender") || !(*pdu)["sender"].is_string() || !pdu->contains("signatures") ||
        !(*pdu)["signatures"].is_object() || !pdu->contains("type") || !(*pdu)["type"].is_string() ||
        !pdu->contains("content") || !(*pdu)["content"].is_object())
      continue;
    if (version.event_ids == events::EventIdFormat::server_assigned &&
        (!pdu->contains("event_id") || !(*pdu)["event_id"].is_string()))
      continue;
    const std::int64_t ts = version.enforce_key_validity ? pdu->value("origin_server_ts", std::int64_t{0}) : 0;
    const auto& signatures = (*pdu)["signatures"];
    for (const std::string& server : pdu_checks::required_signers(*pdu, version)) {
      auto sigs = signatures.find(server);
      if (sigs == signatures.end() || !sigs->is_object()) continue;
      for (const auto& [key_id, sig] : sigs->items()) {
        if (key_id.rfind("ed25519:", 0) != 0) continue;
        auto [it, inserted] = newest.emplace(std::make_pair(server, key_id), ts);
        if (!inserted && ts > it->second) it->second = ts;
      }
    }
  }
  std::vector<SnapshotKey> out;
  for (const auto& [key, ts] : newest) out.push_back({key.first, key.second, ts});
  return out;
}

RoomSnapshot check_room_snapshot(const events::RoomVersion& version, const std::string& room_id, const nlohmann::json& state,
                                 const nlohmann::json& auth_chain, const federation::ServerKeyRing& keys,
                                 std::size_t max_events) {
  if (!state.is_array()) throw std::runtime_error("the answer has no state list");
  if (!auth_chain.is_array()) throw std::runtime_error("the answer has no auth_chain list");
  if (state.size() + auth_chain.size() > max_events) throw std::runtime_error("the room's state is too large to take");
  RoomSnapshot out;
  auto refuse = [&out](const std::string& id, const std::string& why) { out.refused.push_back(id + ": " + why); };

  // 1. Each PDU on its own: format, signatures over the redacted form, content hash.
  std::unordered_map<std::string, Checked> checked;
  std::vector<std::string> order;  // first sight, for stable answers
  const std::string create_id = "$" + room_id.substr(1);  // v12: the create event's ID is the room's
  for (const auto& [pdu_in, in_state] : listed(state, auth_chain)) {
    const std::string text = pdu_in->is_object() ? pdu_in->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "";
    if (auto problem = pdu_checks::format_problem(*pdu_in, version, room_id, text.size(), true)) {
      refuse("(unnamed)", *problem);
      continue;
    }
    nlohmann::json pdu = *pdu_in;
    pdu.erase("unsigned");
    std::string event_id, reference;
    try {
      if (version.event_ids != events::EventIdFormat::server_assigned) pdu.erase("event_id");
      reference = events::reference_hash(pdu, version);
    } catch (const std::exception&) {
      refuse("(unnamed)", "the PDU cannot be canonicalised");
      continue;
    }
    event_id = version.event_ids == events::EventIdFormat::server_assigned ? pdu["event_id"].get<std::string>()
                                                                            : events::event_id_from_reference_hash(reference, version);
    if (auto seen = checked.find(event_id); seen != checked.end()) {
      seen->second.in_state = seen->second.in_state || in_state;
      continue;
    }
    const nlohmann::json redacted = events::redact(pdu, version);
    const std::string unsigned_by = pdu_checks::missing_signature(pdu, redacted, version, keys).value_or("");
    if (!unsigned_by.empty()) {
      refuse(event_id, "no valid signature of " + unsigned_by + " with a known key");
      continue;
    }
    std::string actual_hash;
    try {
      actual_hash = events::content_hash(pdu);
    } catch (const std::exception&) {
      refuse(event_id, "the PDU cannot be canonicalised");
      continue;
    }
    if (actual_hash != pdu["hashes"]["sha256"].get<std::string>()) pdu = redacted;
    const std::string stored = pdu.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    EventPtr event = events::Event::from_text(event_id, room_id, stored, reference);
    if (event->type() == "m.room.create" && version.room_id_from_create && event_id != create_id) {
      refuse(event_id, "a create event of another room");
      continue;
    }
    auto auth_ids = *pdu_checks::reference_ids(pdu, "auth_events", pdu_checks::kMaxAuthEvents, version);
    checked.emplace(event_id, Checked{std::move(event), in_state, std::move(auth_ids)});
    order.push_back(event_id);
  }

  // The create event everything rests on.
  EventPtr create;
  for (const auto& id : order) {
    const EventPtr& e = checked.at(id).event;
    if (e->type() != "m.room.create" || !e->state_key() || !e->state_key()->empty()) continue;
    if (create) throw std::runtime_error("the answer holds two create events");
    create = e;
  }
  if (!create) {
    std::string why;
    for (std::size_t i = 0; i < out.refused.size() && i < 3; ++i) why += "; " + out.refused[i];
    throw std::runtime_error("the answer holds no valid create event of the room" + why);
  }
  const std::string create_version = create->content_string("room_version").value_or("1");
  if (create_version != version.id) {
    throw std::runtime_error("the create event is of room version " + create_version + ", not " + std::string(version.id));
  }

  // 2. Authorisation against each event's own auth events, auth events first (Kahn's order over the
  // auth graph): an event resting on an unknown or refused event is refused too.
  std::unordered_map<std::string, std::vector<std::string>> dependents;
  std::unordered_map<std::string, std::size_t> waiting;
  std::deque<std::string> ready;
  std::unordered_set<std::string> refused_ids;
  for (const auto& id : order) {
    std::size_t pending = 0;
    for (const auto& a : checked.at(id).auth_ids) {
      if (!checked.contains(a)) {
        refused_ids.insert(id);
        refuse(id, "auth event " + a + " is not in the answer");
        break;
      }
      dependents[a].push_back(id);
      ++pending;
    }
    waiting[id] = pending;
    if (pending == 0) ready.push_back(id);
  }
  std::unordered_set<std::string> accepted;
  std::vector<std::string> accepted_order;
  while (!ready.empty()) {
    const std::string id = ready.front();
    ready.pop_front();
    const Checked& c = checked.at(id);
    bool ok = !refused_ids.contains(id);
    if (ok) {
      std::vector<EventPtr> auth_events;
      for (const auto& a : c.auth_ids) {
        if (!accepted.contains(a)) {
          ok = false;
          refuse(id, "auth event " + a + " was refused");
          break;
        }
        auth_events.push_back(checked.at(a).event);
      }
      if (ok) {
        if (auto denial = rooms::auth::check_auth_events(*c.event, auth_events, version)) {
          ok = false;
          refuse(id, denial->reason);
        } else if (auto not_allowed = rooms::auth::check_event(*c.event, rooms::auth::auth_state(version, auth_events, create))) {
          ok = false;
          refuse(id, "not allowed by its auth events: " + not_allowed->reason);
        }
      }
    }
    if (ok) {
      accepted.insert(id);
      accepted_order.push_back(id);
    } else {
      refused_ids.insert(id);
    }
    for (const auto& d : dependents[id]) {
      if (--waiting[d] == 0) ready.push_back(d);
    }
  }
  for (const auto& [id, count] : waiting) {
    if (count > 0) refuse(id, "its auth events form a cycle");
  }
  if (!accepted.contains(create->event_id())) throw std::runtime_error("the create event is not valid");

  // 3. The state: one event per key; the rest of the accepted auth chain beside it.
  std::set<rooms::StateKey> keys_seen;
  for (const auto& id : accepted_order) {
    const Checked& c = checked.at(id);
    if (!c.in_state) continue;
    if (!c.event->state_key()) {
      refuse(id, "not a state event");
      continue;
    }
    if (!keys_seen.emplace(c.event->type(), *c.event->state_key()).second) {
      throw std::runtime_error("the state lists two events for (" + c.event->type() + ", " + *c.event->state_key() + ")");
    }
    out.state.push_back(c.event);
  }
  // The state must hold the create event itself (in the auth chain alone it does not say the room is
  // this one's as it stands).
  if (!keys_seen.contains({"m.room.create", ""})) throw std::runtime_error("the state holds no create event");
  for (const auto& id : accepted_order) {
    const Checked& c = checked.at(id);
    if (!c.in_state) out.auth_chain.push_back(c.event);
  }
  out.create = create;
  return out;
}

}  // namespace herald::homeserver
