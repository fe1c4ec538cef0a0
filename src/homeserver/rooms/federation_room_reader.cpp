#include "homeserver/rooms/federation_room_reader.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/matrix_error.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "homeserver/rooms/room_registry.h"
#include "homeserver/rooms/room_service.h"
#include "rooms/event_walk.h"
#include "rooms/history_visibility.h"
#include "rooms/server_acl.h"
#include "storage/database.h"
#include "storage/event_graph_store.h"
#include "storage/room_store.h"

namespace herald::homeserver {
namespace graph = storage::event_graph_store;
namespace rs = storage::room_store;
using storage::StateIds;

namespace {

std::string server_of(std::string_view id) {
  const auto colon = id.find(':');
  return colon == std::string_view::npos ? std::string() : std::string(id.substr(colon + 1));
}

// The event IDs a PDU refers to under `key`: strings (v3+) or [id, hashes] pairs (v1-2).
std::vector<std::string> reference_ids(const nlohmann::json& pdu, const char* key) {
  std::vector<std::string> out;
  auto it = pdu.find(key);
  if (it == pdu.end() || !it->is_array()) return out;
  for (const auto& ref : *it) {
    if (ref.is_string()) out.push_back(ref.get<std::string>());
    else if (ref.is_array() && !ref.empty() && ref[0].is_string()) out.push_back(ref[0].get<std::string>());
  }
  return out;
}

struct Loaded {
  std::string room_id;
  nlohmann::json pdu;  // as stored
  std::int64_t depth = 0;
  std::optional<std::int64_t> stream;  // in the timeline
  bool redacted = false;
  std::optional<storage::OutsideStatus> outside;
  std::optional<std::int64_t> outside_state_before;
};

// The stored events of one room seen from one read job, each parsed once.
class GraphView {
 public:
  GraphView(storage::sql::Connection& c, const events::RoomVersion& version, std::string room_id)
      : c_(c), version_(version), room_id_(std::move(room_id)) {}

  // The event when stored in this room and not rejected.
  const Loaded* load(const std::string& id) {
    if (auto it = cache_.find(id); it != cache_.end()) return it->second ? &*it->second : nullptr;
    std::optional<Loaded> loaded;
    if (auto e = rs::find_event(c_, id)) {
      loaded = Loaded{e->room_id, nlohmann::json::parse(e->pdu, nullptr, false), 0, e->stream, e->redacted_by.has_value(),
                      std::nullopt, std::nullopt};
    } else if (auto o = graph::find_outside(c_, id); o && o->status != storage::OutsideStatus::rejected) {
      loaded = Loaded{o->room_id, nlohmann::json::parse(o->pdu, nullptr, false), 0, std::nullopt, false, o->status,
                      o->state_before};
    }
    if (loaded && (loaded->room_id != room_id_ || !loaded->pdu.is_object())) loaded.reset();
    if (loaded) {
      auto d = loaded->pdu.find("depth");
      loaded->depth = d != loaded->pdu.end() && d->is_number_integer() ? d->get<std::int64_t>() : 0;
    }
    auto [it, _] = cache_.emplace(id, std::move(loaded));
    return it->second ? &*it->second : nullptr;
  }

  std::optional<StateIds> state_before(const std::string& id) {
    const Loaded* e = load(id);
    if (!e) return std::nullopt;
    if (auto groups = graph::event_state_groups(c_, id)) return graph::state_of_group(c_, groups->before);
    if (e->outside_state_before) return graph::state_of_group(c_, *e->outside_state_before);
    if (e->stream) return rs::state_ids_before(c_, room_id_, *e->stream);  // a room written before the graph
    return std::nullopt;
  }

  std::optional<StateIds> state_after(const std::string& id) {
    const Loaded* e = load(id);
    if (!e) return std::nullopt;
    if (auto groups = graph::event_state_groups(c_, id)) return graph::state_of_group(c_, groups->after);
    if (e->stream) return rs::state_ids_before(c_, room_id_, *e->stream + 1);
    auto state = state_before(id);
    // A soft-failed state event still takes its place in the state after it.
    if (state && e->outside == storage::OutsideStatus::soft_failed) {
      auto key = e->pdu.find("state_key");
      if (key != e->pdu.end() && key->is_string()) (*state)[{e->pdu.value("type", ""), key->get<std::string>()}] = id;
    }
    return state;
  }

  // Throws 404 when `id` is not an event of this room, 403 when `server` may not see it.
  void require_visible(const std::string& id, const std::string& server, const RoomAccess& now) {
    if (!load(id)) throw MatrixError(Errc::not_found, "Unknown event " + id + " in this room");
    if (!visible(id, server, now)) throw MatrixError(Errc::forbidden, "Host may not see this event");
  }

  // The federation form of each of `ids` that `server` may see, in order.
  std::vector<nlohmann::json> visible_pdus(const std::vector<std::string>& ids, const std::string& server,
                                           const RoomAccess& now) {
    std::vector<nlohmann::json> out;
    for (const auto& id : ids) {
      if (!visible(id, server, now)) continue;
      out.push_back(federation_form(*load(id)));
    }
    return out;
  }

  // History visibility for servers, with the state after the event (a server's own join is visible to it).
  bool visible(const std::string& id, const std::string& server, const RoomAccess& now) {
    const auto state = state_after(id);
    if (!state) return rooms::server_may_see(now.history_visibility, {}, now.server_joined);
    std::string visibility = "shared";
    if (auto it = state->find({"m.room.history_visibility", ""}); it != state->end()) {
      if (const Loaded* hv = load(it->second)) {
        auto content = hv->pdu.find("content");
        if (content != hv->pdu.end() && content->is_object()) visibility = content->value("history_visibility", "shared");
      }
    }
    std::vector<std::string> memberships;
    for (auto it = state->lower_bound({"m.room.member", ""}); it != state->end() && it->first.first == "m.room.member"; ++it) {
      if (server_of(it->first.second) != server) continue;
      if (const Loaded* m = load(it->second)) {
        auto content = m->pdu.find("content");
        if (content != m->pdu.end() && content->is_object()) memberships.push_back(content->value("membership", ""));
      }
    }
    return rooms::server_may_see(visibility, memberships, now.server_joined);
  }

  // The PDU as sent to other servers.
  nlohmann::json federation_form(const Loaded& e) const {
    nlohmann::json pdu = e.redacted ? events::redact(e.pdu, version_) : e.pdu;
    pdu.erase("unsigned");
    if (version_.event_ids != events::EventIdFormat::server_assigned) pdu.erase("event_id");
    return pdu;
  }

  // Every event reachable over auth_events from `from` (not `from` themselves unless reached), oldest first.
  // From v12 on the create event authorises every event without being listed: it joins the chain.
  std::vector<std::string> auth_chain(const std::vector<std::string>& from) {
    std::set<std::string> seen;
    std::vector<std::string> todo;
    if (version_.room_id_from_create && !from.empty()) todo.push_back("$" + room_id_.substr(1));
    for (const auto& id : from)
      if (const Loaded* e = load(id))
        for (auto& a : reference_ids(e->pdu, "auth_events")) todo.push_back(std::move(a));
    std::vector<std::pair<std::int64_t, std::string>> chain;
    while (!todo.empty()) {
      std::string id = std::move(todo.back());
      todo.pop_back();
      if (!seen.insert(id).second) continue;
      const Loaded* e = load(id);
      if (!e) continue;
      chain.emplace_back(e->depth, id);
      for (auto& a : reference_ids(e->pdu, "auth_events")) todo.push_back(std::move(a));
    }
    std::sort(chain.begin(), chain.end());
    std::vector<std::string> out;
    for (auto& [depth, id] : chain) out.push_back(std::move(id));
    return out;
  }

  std::vector<nlohmann::json> pdus(const std::vector<std::string>& ids) {
    std::vector<nlohmann::json> out;
    for (const auto& id : ids)
      if (const Loaded* e = load(id)) out.push_back(federation_form(*e));
    return out;
  }

  rooms::WalkLookup walk_lookup() {
    return [this](const std::string& id) -> std::optional<rooms::WalkNode> {
      const Loaded* e = load(id);
      if (!e) return std::nullopt;
      return rooms::WalkNode{e->depth, reference_ids(e->pdu, "prev_events")};
    };
  }

 private:
  storage::sql::Connection& c_;
  const events::RoomVersion& version_;
  std::string room_id_;
  std::map<std::string, std::optional<Loaded>> cache_;
};

const events::RoomVersion& version_of(const RoomAccess& access) {
  const events::RoomVersion* v = events::find_room_version(access.room_version);
  if (!v) throw MatrixError(Errc::unsupported_room_version, "The room's version is not supported", 400);
  return *v;
}

std::string room_of_pdu(const nlohmann::json& pdu, const std::string& event_id) {
  auto it = pdu.find("room_id");
  if (it != pdu.end() && it->is_string()) return it->get<std::string>();
  // v12: the create event has no room_id; the room's ID is the create event's with '!'.
  return event_id.empty() ? std::string() : "!" + event_id.substr(1);
}

}  // namespace

Task<std::optional<RoomAccess>> FederationRoomReader::room_access(RoomId room, std::string server) {
  std::shared_ptr<Room> r = co_await rooms_.find_room(room);
  if (!r) co_return std::nullopt;
  RoomAccess access;
  access.room_version = std::string(r->version->id);
  access.server_joined = r->server_joined(server);
  if (auto hv = r->state_event("m.room.history_visibility"); hv && hv->content().is_object())
    access.history_visibility = hv->content().value("history_visibility", "shared");
  if (auto acl = r->state_event("m.room.server_acl")) access.server_acl = acl->content();
  co_return access;
}

Task<RoomAccess> FederationRoomReader::require_access(RoomId room, std::string server) {
  auto access = co_await room_access(room, server);
  if (!access) throw MatrixError(Errc::not_found, "Unknown room");
  if (!rooms::server_acl_allows(access->server_acl, server))
    throw MatrixError(Errc::forbidden, "Server is banned from this room by its server ACL");
  if (!access->server_joined && access->history_visibility != "world_readable")
    throw MatrixError(Errc::forbidden, "Host not in room");
  co_return *access;
}

Task<bool> FederationRoomReader::has_local_members(RoomId room) {
  auto access = co_await room_access(room, server_name_);
  co_return access && access->server_joined;
}

Task<std::optional<FederationEvent>> FederationRoomReader::event(std::string event_id, std::string server) {
  // Which room: read the event first, then judge it with that room's facts.
  const std::optional<std::string> text = co_await db_.read([&](storage::sql::Connection& c) { return graph::find_pdu(c, event_id); });
  if (!text) co_return std::nullopt;
  const nlohmann::json raw = nlohmann::json::parse(*text, nullptr, false);
  const auto room = RoomId::parse(raw.is_object() ? room_of_pdu(raw, event_id) : std::string());
  if (!room) co_return std::nullopt;
  const auto access = co_await room_access(*room, server);
  if (!access) co_return std::nullopt;
  const events::RoomVersion& version = version_of(*access);
  const bool acl_allows = rooms::server_acl_allows(access->server_acl, server);
  co_return co_await db_.read([&](storage::sql::Connection& c) -> std::optional<FederationEvent> {
    GraphView view(c, version, room->str());
    const Loaded* e = view.load(event_id);
    if (!e) return std::nullopt;
    return FederationEvent{event_id, room->str(), view.federation_form(*e), acl_allows && view.visible(event_id, server, *access)};
  });
}

Task<StateAtEvent> FederationRoomReader::state_before(RoomId room, std::string event_id, std::string server, bool with_pdus) {
  const RoomAccess access = co_await require_access(room, server);
  const events::RoomVersion& version = version_of(access);
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    GraphView view(c, version, room.str());
    view.require_visible(event_id, server, access);
    const auto state = view.state_before(event_id);
    if (!state) throw MatrixError(Errc::not_found, "The state at " + event_id + " is not known here");
    StateAtEvent out;
    for (const auto& [key, id] : *state) out.state_ids.push_back(id);
    out.auth_chain_ids = view.auth_chain(out.state_ids);
    if (with_pdus) {
      out.state = view.pdus(out.state_ids);
      out.auth_chain = view.pdus(out.auth_chain_ids);
    }
    return out;
  });
}

Task<std::vector<nlohmann::json>> FederationRoomReader::auth_chain(RoomId room, std::string event_id, std::string server) {
  const RoomAccess access = co_await require_access(room, server);
  const events::RoomVersion& version = version_of(access);
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    GraphView view(c, version, room.str());
    view.require_visible(event_id, server, access);
    const std::vector<std::string> start{event_id};
    return view.pdus(view.auth_chain(start));
  });
}

Task<std::vector<nlohmann::json>> FederationRoomReader::missing_events(RoomId room, std::string server,
                                                                       std::vector<std::string> earliest,
                                                                       std::vector<std::string> latest, std::size_t limit,
                                                                       std::int64_t min_depth) {
  const RoomAccess access = co_await require_access(room, server);
  const events::RoomVersion& version = version_of(access);
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    GraphView view(c, version, room.str());
    return view.visible_pdus(rooms::missing_events_walk(earliest, latest, limit, min_depth, view.walk_lookup()), server, access);
  });
}

Task<std::vector<nlohmann::json>> FederationRoomReader::backfill(RoomId room, std::string server, std::vector<std::string> from,
                                                                 std::size_t limit) {
  const RoomAccess access = co_await require_access(room, server);
  const events::RoomVersion& version = version_of(access);
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    GraphView view(c, version, room.str());
    return view.visible_pdus(rooms::backfill_walk(from, limit, view.walk_lookup()), server, access);
  });
}

Task<std::vector<std::string>> FederationRoomReader::forward_extremities(RoomId room) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return graph::forward_extremities(c, room.str()); });
}

Task<std::vector<nlohmann::json>> FederationRoomReader::stored_pdus(std::vector<std::string> event_ids) {
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    std::vector<nlohmann::json> out;
    for (const auto& id : event_ids) {
      if (auto text = graph::find_pdu(c, id)) {
        nlohmann::json pdu = nlohmann::json::parse(*text, nullptr, false);
        if (pdu.is_object()) out.push_back(std::move(pdu));
      }
    }
    return out;
  });
}

Task<std::vector<std::string>> FederationRoomReader::joined_servers(RoomId room) {
  std::shared_ptr<Room> r = co_await rooms_.find_room(room);
  std::vector<std::string> out;
  if (!r) co_return out;
  const std::vector<std::string> names = r->joined_server_names();
  std::set<std::string> servers(names.begin(), names.end());
  if (servers.erase(server_name_)) out.push_back(server_name_);
  out.insert(out.end(), servers.begin(), servers.end());
  co_return out;
}

}  // namespace herald::homeserver
