#include "homeserver/federation/federation_missing_events_fetcher.h"

#include <algorithm>
#include <deque>
#include <set>

#include "core/log.h"
#include "core/strings.h"
#include "federation/federation_client.h"

namespace herald::homeserver {

namespace {
std::int64_t depth_of(const nlohmann::json& pdu) {
  auto d = pdu.find("depth");
  return d != pdu.end() && d->is_number_integer() ? d->get<std::int64_t>() : 0;
}

// Oldest first: by depth, the order the pipeline needs to find each event's prev events stored.
void sort_oldest_first(std::vector<nlohmann::json>& pdus) {
  std::stable_sort(pdus.begin(), pdus.end(),
                   [](const nlohmann::json& a, const nlohmann::json& b) { return depth_of(a) < depth_of(b); });
}

// prev_events as IDs (v1-2 rooms give [id, hashes] pairs).
std::vector<std::string> prev_ids(const nlohmann::json& pdu) {
  std::vector<std::string> out;
  auto prev = pdu.find("prev_events");
  if (prev == pdu.end() || !prev->is_array()) return out;
  for (const auto& p : *prev) {
    if (p.is_string()) out.push_back(p.get<std::string>());
    else if (p.is_array() && !p.empty() && p[0].is_string()) out.push_back(p[0].get<std::string>());
  }
  return out;
}

bool in_room(const nlohmann::json& pdu, const RoomId& room) {
  // v12 create events carry no room_id; they are never missing prev events of anything here.
  auto r = pdu.find("room_id");
  return pdu.is_object() && r != pdu.end() && r->is_string() && r->get<std::string>() == room.str();
}
}  // namespace

Task<std::vector<nlohmann::json>> FederationMissingEventsFetcher::get_missing_events(std::string origin, RoomId room,
                                                                                    std::vector<std::string> earliest,
                                                                                    std::vector<std::string> latest,
                                                                                    int limit) {
  const std::string uri = "/_matrix/federation/v1/get_missing_events/" + strings::percent_encode(room.str());
  nlohmann::json body = {{"earliest_events", earliest}, {"latest_events", latest}, {"limit", limit}, {"min_depth", 0}};
  std::vector<nlohmann::json> out;
  try {
    const nlohmann::json answer = co_await client_.post_json(origin, uri, std::move(body));
    auto events = answer.find("events");
    if (events == answer.end() || !events->is_array()) throw std::runtime_error("the answer has no events array");
    for (const auto& pdu : *events) {
      if (in_room(pdu, room) && out.size() < static_cast<std::size_t>(limit)) out.push_back(pdu);
    }
    sort_oldest_first(out);
    log::debug("federation get_missing_events origin={} room={} got={}", origin, room.str(), out.size());
    co_return out;
  } catch (const std::exception& e) {
    log::info("federation get_missing_events failed origin={} room={} error={}; walking back with /event", origin,
              room.str(), e.what());
  }
  co_return co_await by_event(std::move(origin), std::move(room), std::move(earliest), std::move(latest), limit);
}

Task<std::vector<nlohmann::json>> FederationMissingEventsFetcher::by_event(std::string origin, RoomId room,
                                                                          std::vector<std::string> earliest,
                                                                          std::vector<std::string> latest, int limit) {
  const std::set<std::string> known(earliest.begin(), earliest.end());
  std::set<std::string> seen(latest.begin(), latest.end());
  std::deque<std::string> todo;
  std::vector<nlohmann::json> out;
  const std::string room_path = strings::percent_encode(room.str());
  // The waiting events themselves are stored here already (as outliers); their prev events are wanted.
  for (const auto& id : latest) {
    try {
      // /state_ids at the waiting event: the origin confirms it has it (and its auth chain) before the walk.
      const std::string state_uri = "/_matrix/federation/v1/state_ids/" + room_path + "?event_id=" + strings::percent_encode(id);
      const nlohmann::json state = co_await client_.get_json(origin, state_uri);
      if (!state.contains("pdu_ids") || !state["pdu_ids"].is_array()) continue;
      const nlohmann::json answer = co_await client_.get_json(origin, "/_matrix/federation/v1/event/" + strings::percent_encode(id));
      if (!answer.contains("pdus") || !answer["pdus"].is_array() || answer["pdus"].empty()) continue;
      for (auto& prev : prev_ids(answer["pdus"][0]))
        if (!known.contains(prev) && seen.insert(prev).second) todo.push_back(std::move(prev));
    } catch (const std::exception& e) {
      log::info("federation /state_ids failed origin={} room={} event={} error={}", origin, room.str(), id, e.what());
    }
  }
  while (!todo.empty() && out.size() < static_cast<std::size_t>(limit)) {
    const std::string id = std::move(todo.front());
    todo.pop_front();
    try {
      const nlohmann::json answer = co_await client_.get_json(origin, "/_matrix/federation/v1/event/" + strings::percent_encode(id));
      if (!answer.contains("pdus") || !answer["pdus"].is_array() || answer["pdus"].empty()) continue;
      const nlohmann::json& pdu = answer["pdus"][0];
      if (!in_room(pdu, room)) continue;
      for (auto& prev : prev_ids(pdu))
        if (!known.contains(prev) && seen.insert(prev).second) todo.push_back(std::move(prev));
      out.push_back(pdu);
    } catch (const std::exception& e) {
      log::info("federation /event failed origin={} room={} event={} error={}", origin, room.str(), id, e.what());
    }
  }
  sort_oldest_first(out);
  co_return out;
}

}  // namespace herald::homeserver
