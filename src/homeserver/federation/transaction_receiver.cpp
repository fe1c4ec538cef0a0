#include "homeserver/federation/transaction_receiver.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "events/event_builder.h"
#include "events/room_version.h"
#include "federation/remote_key_store.h"
#include "homeserver/federation/missing_events_fetcher.h"
#include "homeserver/membership/remote_invites.h"
#include "homeserver/rooms/federation_room_reader.h"
#include "homeserver/rooms/room_service.h"
#include "http/metrics.h"
#include "rooms/server_acl.h"
#include "storage/database.h"
#include "storage/federation_txn_store.h"

namespace herald::homeserver {
namespace {

constexpr const char* kPduMetric = "herald_federation_inbound_pdus_total";
constexpr const char* kTxnMetric = "herald_federation_inbound_transactions_total";

// The event ID this server gives a PDU of a room of `version`; empty when it cannot be computed.
std::string event_id_of(const nlohmann::json& pdu, const events::RoomVersion& version) {
  if (!pdu.is_object()) return {};
  if (version.event_ids == events::EventIdFormat::server_assigned) {
    auto it = pdu.find("event_id");
    return it != pdu.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  try {
    nlohmann::json copy = pdu;
    copy.erase("unsigned");
    copy.erase("event_id");
    return events::event_id_from_reference_hash(events::reference_hash(copy, version), version);
  } catch (const std::exception&) {
    return {};
  }
}

nlohmann::json error_entry(const std::string& reason) { return {{"error", reason}}; }

// Removes its key from the set of transactions being handled when the handling ends, however it ends.
class InFlight {
 public:
  InFlight(std::mutex& mutex, std::set<std::string>& set, std::string key) : mutex_(mutex), set_(set), key_(std::move(key)) {}
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() {
    std::lock_guard lock(mutex_);
    set_.erase(key_);
  }

 private:
  std::mutex& mutex_;
  std::set<std::string>& set_;
  std::string key_;
};

void check_shape(const nlohmann::json& body) {
  if (!body.is_object()) throw MatrixError(Errc::bad_json, "The transaction must be a JSON object");
  auto pdus = body.find("pdus");
  if (pdus == body.end() || !pdus->is_array()) throw MatrixError(Errc::bad_json, "pdus must be an array");
  if (pdus->size() > TransactionReceiver::kMaxPdus)
    throw MatrixError(Errc::too_large, "A transaction carries at most 50 PDUs", 400);
  auto edus = body.find("edus");
  if (edus != body.end() && !edus->is_array() && !edus->is_null()) throw MatrixError(Errc::bad_json, "edus must be an array");
  if (edus != body.end() && edus->is_array() && edus->size() > TransactionReceiver::kMaxEdus)
    throw MatrixError(Errc::too_large, "A transaction carries at most 100 EDUs", 400);
}

}  // namespace

TransactionReceiver::TransactionReceiver(storage::Database& db, RoomService& rooms, FederationRoomReader& reader,
                                         MissingEventsFetcher& fetcher, http::Metrics& metrics, const Clock& clock,
                                         std::string server_name, federation::RemoteKeyStore* keys)
    : db_(db), rooms_(rooms), reader_(reader), fetcher_(fetcher), metrics_(metrics), clock_(clock),
      server_name_(std::move(server_name)), keys_(keys) {}

Task<void> TransactionReceiver::fetch_signing_keys(const std::vector<nlohmann::json>& pdus, const std::string& origin) {
  if (!keys_) co_return;
  // The servers whose signatures the pipeline requires: the sender's (and, in v1/v2 rooms, the event
  // ID's; those name their server too). Only keys it does not know at the event's time are fetched, and
  // at most kMaxKeyServersPerTransaction servers per transaction.
  std::set<std::string> wanted;
  for (const auto& pdu : pdus) {
    if (!pdu.is_object()) continue;
    const auto signatures = pdu.find("signatures");
    if (signatures == pdu.end() || !signatures->is_object()) continue;
    const std::int64_t ts = pdu.value("origin_server_ts", std::int64_t{0});
    std::vector<std::string> servers;
    if (auto sender = pdu.find("sender"); sender != pdu.end() && sender->is_string()) {
      if (auto user = UserId::parse(sender->get<std::string>())) servers.emplace_back(user->server_name());
    }
    if (auto id = pdu.find("event_id"); id != pdu.end() && id->is_string()) {
      const std::string text = id->get<std::string>();
      if (auto colon = text.find(':'); colon != std::string::npos) servers.push_back(text.substr(colon + 1));
    }
    for (const auto& server : servers) {
      const auto sigs = signatures->find(server);
      if (sigs == signatures->end() || !sigs->is_object()) continue;
      for (const auto& [key_id, sig] : sigs->items()) {
        if (!keys_->verify_key(server, key_id, ts)) wanted.insert(server);
      }
    }
  }
  std::size_t fetched = 0;
  for (const auto& server : wanted) {
    if (++fetched > kMaxKeyServersPerTransaction) {
      log::info("federation keys not fetched origin={} server={} reason=too many servers in one transaction", origin, server);
      continue;
    }
    try {
      co_await keys_->refetch(server);
    } catch (const std::exception& e) {
      // The pipeline then drops the PDU for want of a valid signature, and says so in its answer.
      log::info("federation keys not fetched origin={} server={} error={}", origin, server, e.what());
    }
  }
}

void TransactionReceiver::count(const char* outcome, std::uint64_t n) { metrics_.increment(kPduMetric, "outcome", outcome, n); }

Task<nlohmann::json> TransactionReceiver::receive(std::string origin, std::string txn_id, nlohmann::json body) {
  check_shape(body);
  const std::optional<std::string> answered = co_await db_.read([&](storage::sql::Connection& c) {
    return storage::federation_txn_store::find_response(c, origin, txn_id);
  });
  if (answered) {
    metrics_.increment(kTxnMetric, "result", "retried");
    log::debug("federation txn repeated origin={} txn={}", origin, txn_id);
    co_return nlohmann::json::parse(*answered);
  }
  const std::string key = origin + '\n' + txn_id;
  {
    std::lock_guard lock(mutex_);
    if (!in_flight_.insert(key).second) {
      log::warn("federation txn refused origin={} txn={} reason=still being handled", origin, txn_id);
      throw MatrixError(Errc::limit_exceeded, "This transaction is still being handled", 429).with("retry_after_ms", 1000);
    }
  }
  InFlight guard(mutex_, in_flight_, key);
  metrics_.increment(kTxnMetric, "result", "handled");

  // PDUs by room, in the order they came.
  std::vector<std::string> room_order;
  std::map<std::string, std::vector<nlohmann::json>> by_room;
  nlohmann::json results = nlohmann::json::object();
  for (auto& pdu : body["pdus"]) {
    auto room_field = pdu.is_object() ? pdu.find("room_id") : pdu.end();
    if (!pdu.is_object() || room_field == pdu.end() || !room_field->is_string() || !RoomId::parse(room_field->get<std::string>())) {
      // Without a room there is no room version, hence no event ID to answer under (as Synapse: skipped).
      log::info("federation pdu ignored origin={} txn={} reason=no valid room_id", origin, txn_id);
      count("dropped");
      continue;
    }
    const std::string room_id = room_field->get<std::string>();
    if (!by_room.contains(room_id)) room_order.push_back(room_id);
    by_room[room_id].push_back(std::move(pdu));
  }
  for (const auto& room_id : room_order) {
    const RoomId room = RoomId::parse(room_id).value();
    co_await receive_room(origin, room, std::move(by_room[room_id]), results);
  }

  // EDUs: typing, receipts and presence are accepted and dropped for now (nothing here shows remote users'
  // typing, receipts or presence yet); m.device_list_update, m.signing_key_update and m.direct_to_device
  // are dropped too until end-to-end encryption works across servers.
  if (auto edus = body.find("edus"); edus != body.end() && edus->is_array() && !edus->empty())
    log::debug("federation edus dropped origin={} txn={} count={}", origin, txn_id, edus->size());

  nlohmann::json response = {{"pdus", std::move(results)}};
  const std::string text = response.dump();
  const std::int64_t now = clock_.now_ms();
  co_await db_.write([&](storage::sql::Connection& c) {
    storage::federation_txn_store::insert_response(c, origin, txn_id, text, now);
  });
  co_return response;
}

Task<void> TransactionReceiver::receive_room(std::string origin, RoomId room, std::vector<nlohmann::json> pdus,
                                             nlohmann::json& results) {
  const auto ours = co_await reader_.room_access(room, server_name_);
  if (!ours) {
    // An unknown room has no version here, so no event IDs to answer under: ignored, as Synapse does;
    // except a kick or ban of a local user invited to it, which takes the invite back.
    const std::vector<bool> withdrawn = co_await withdraw_invites(origin, room, pdus);
    const auto ignored = static_cast<std::size_t>(std::count(withdrawn.begin(), withdrawn.end(), false));
    if (ignored) {
      log::info("federation pdus ignored origin={} room={} count={} reason=unknown room", origin, room.str(), ignored);
      count("dropped", ignored);
    }
    co_return;
  }
  const events::RoomVersion* version = events::find_room_version(ours->room_version);
  std::vector<std::string> ids;
  for (const auto& pdu : pdus) ids.push_back(version ? event_id_of(pdu, *version) : std::string());
  const auto refuse_all = [&](const std::string& reason) {
    for (const auto& id : ids)
      if (!id.empty()) results[id] = error_entry(reason);
    if (ids.empty()) return;
    log::info("federation pdus refused origin={} room={} count={} reason={}", origin, room.str(), ids.size(), reason);
    count("dropped", ids.size());
  };
  std::optional<std::string> refusal;
  if (!version) refusal = "unsupported room version";
  else if (!ours->server_joined) refusal = "this server is not in the room";
  else if (!rooms::server_acl_allows(ours->server_acl, origin)) refusal = "the room's server ACL bans " + origin;
  if (refusal && version && !ours->server_joined) {
    // A room this server left can still have an invite of a local user waiting, which a kick or ban ends.
    const std::vector<bool> withdrawn = co_await withdraw_invites(origin, room, pdus);
    std::vector<std::string> refused;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (!withdrawn[i]) refused.push_back(ids[i]);
      else if (!ids[i].empty()) results[ids[i]] = nlohmann::json::object();
    }
    ids = std::move(refused);
  }
  if (refusal) {
    refuse_all(*refusal);
    co_return;
  }

  // Too large a PDU is answered here, under its ID; the pipeline would drop it without naming it.
  std::vector<nlohmann::json> kept;
  std::vector<std::string> kept_ids;
  for (std::size_t i = 0; i < pdus.size(); ++i) {
    if (pdus[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size() > kMaxPduBytes) {
      if (!ids[i].empty()) results[ids[i]] = error_entry("the PDU is larger than 65536 bytes");
      count("dropped");
      continue;
    }
    kept.push_back(std::move(pdus[i]));
    kept_ids.push_back(ids[i]);
  }
  if (kept.empty()) co_return;
  co_await fetch_signing_keys(kept, origin);

  std::vector<Received> received;
  try {
    received = co_await rooms_.receive(room, std::move(kept));
  } catch (const MatrixError& e) {
    log::warn("federation pdus not handled origin={} room={} error={}", origin, room.str(), e.message());
    for (const auto& id : ids)
      if (!id.empty() && !results.contains(id)) results[id] = error_entry(e.message());
    co_return;
  }
  std::vector<std::string> waiting, unblocked;
  for (std::size_t i = 0; i < received.size(); ++i) {
    const Received& r = received[i];
    unblocked.insert(unblocked.end(), r.unblocked.begin(), r.unblocked.end());
    count(to_string(r.outcome));
    if (r.outcome == Outcome::rejected || r.outcome == Outcome::dropped) {
      log::info("federation pdu {} origin={} room={} event={} reason={}", to_string(r.outcome), origin, room.str(),
                r.event_id, r.reason);
    }
    // The pipeline names no event it dropped as malformed; this server's name for it is in kept_ids.
    const std::string& event_id = r.event_id.empty() && i < kept_ids.size() ? kept_ids[i] : r.event_id;
    if (event_id.empty()) continue;
    const bool refused = r.outcome == Outcome::rejected || r.outcome == Outcome::dropped;
    results[event_id] = refused ? error_entry(r.reason) : nlohmann::json::object();
    if (r.outcome == Outcome::outlier && !r.missing_prev_events.empty()) waiting.push_back(r.event_id);
  }
  if (!waiting.empty()) co_await fetch_missing(origin, room, std::move(waiting), unblocked);
  if (!unblocked.empty()) co_await hand_in_again(room, std::move(unblocked), results);
}

Task<std::vector<bool>> TransactionReceiver::withdraw_invites(const std::string& origin, const RoomId& room,
                                                              const std::vector<nlohmann::json>& pdus) {
  std::vector<bool> withdrawn(pdus.size(), false);
  if (!invites_) co_return withdrawn;
  // Only kicks and bans of local users by users of the origin are looked at (and their keys fetched).
  std::vector<nlohmann::json> candidates;
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < pdus.size(); ++i) {
    if (!remote_invites::withdrawal_of(pdus[i], origin, server_name_)) continue;
    candidates.push_back(pdus[i]);
    at.push_back(i);
  }
  if (candidates.empty()) co_return withdrawn;
  co_await fetch_signing_keys(candidates, origin);
  std::size_t taken = 0;
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const std::size_t i = at[k];
    nlohmann::json pdu = std::move(candidates[k]);
    withdrawn[i] = co_await invites_->withdraw(origin, room.str(), std::move(pdu), rooms_.server_keys());
    if (withdrawn[i]) ++taken;
  }
  if (taken) {
    log::info("federation invites withdrawn origin={} room={} count={}", origin, room.str(), taken);
    count("outlier", taken);
  }
  co_return withdrawn;
}

Task<void> TransactionReceiver::fetch_missing(std::string origin, RoomId room, std::vector<std::string> waiting,
                                              std::vector<std::string>& unblocked) {
  if (waiting.size() > kMaxFetchesPerTransaction) waiting.resize(kMaxFetchesPerTransaction);
  for (const auto& event_id : waiting) {
    std::vector<nlohmann::json> fetched;
    try {
      std::vector<std::string> earliest = co_await reader_.forward_extremities(room);
      std::vector<std::string> latest{event_id};
      fetched = co_await fetcher_.get_missing_events(origin, room, std::move(earliest), std::move(latest), kMissingEventsLimit);
    } catch (const std::exception& e) {
      log::warn("federation missing events not fetched origin={} room={} event={} error={}", origin, room.str(), event_id,
                e.what());
      continue;
    }
    if (fetched.empty()) {
      log::info("federation event waits for its prev events origin={} room={} event={}", origin, room.str(), event_id);
      continue;
    }
    co_await fetch_signing_keys(fetched, origin);
    const std::vector<Received> got = co_await rooms_.receive(room, std::move(fetched));
    for (const auto& r : got) {
      count(to_string(r.outcome));
      unblocked.insert(unblocked.end(), r.unblocked.begin(), r.unblocked.end());
    }
  }
}

Task<void> TransactionReceiver::hand_in_again(RoomId room, std::vector<std::string> unblocked, nlohmann::json& results) {
  // The outliers received events let in, and the ones theirs let in, a bounded number of rounds.
  for (int round = 0; round < 4 && !unblocked.empty(); ++round) {
    std::vector<nlohmann::json> pdus = co_await reader_.stored_pdus(std::move(unblocked));
    unblocked.clear();
    if (pdus.empty()) break;
    const std::vector<Received> again = co_await rooms_.receive(room, std::move(pdus));
    for (const auto& r : again) {
      if (results.contains(r.event_id)) {
        const bool refused = r.outcome == Outcome::rejected || r.outcome == Outcome::dropped;
        results[r.event_id] = refused ? error_entry(r.reason) : nlohmann::json::object();
      }
      if (r.outcome != Outcome::duplicate && r.outcome != Outcome::outlier) count(to_string(r.outcome));
      unblocked.insert(unblocked.end(), r.unblocked.begin(), r.unblocked.end());
    }
  }
}

}  // namespace herald::homeserver
