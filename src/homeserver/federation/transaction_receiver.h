#pragma once
// PUT /_matrix/federation/v1/send/{txnId} behind the handler (federation.md §5): limits, one answer per
// (origin, txnId) kept in storage so that a retry gets the same per-PDU results without the PDUs being
// handled again, PDUs grouped by room and handed to the event pipeline (RoomService::receive, the one
// way into a room), missing prev events fetched through MissingEventsFetcher, and EDUs.
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald {
class Clock;
namespace http {
class Metrics;
}
namespace storage {
class Database;
}
}  // namespace herald

namespace herald::federation {
class RemoteKeyStore;
}

namespace herald::homeserver {

class FederationRoomReader;
class MissingEventsFetcher;
class RemoteInvites;
class RoomService;

class TransactionReceiver {
 public:
  static constexpr std::size_t kMaxPdus = 50;
  static constexpr std::size_t kMaxEdus = 100;
  static constexpr std::size_t kMaxPduBytes = 65536;
  // Missing prev events are asked for at most this many at a time, for at most this many waiting events
  // of one transaction (a peer cannot make one transaction cost unbounded fetches).
  static constexpr int kMissingEventsLimit = 10;
  static constexpr std::size_t kMaxFetchesPerTransaction = 5;

  // Signing keys of a PDU's signers that are not known yet are fetched into `keys` (which fills the
  // pipeline's key ring) before the PDUs go in: the pipeline runs in a database job and only reads keys.
  static constexpr std::size_t kMaxKeyServersPerTransaction = 10;
  TransactionReceiver(storage::Database& db, RoomService& rooms, FederationRoomReader& reader,
                      MissingEventsFetcher& fetcher, http::Metrics& metrics, const Clock& clock, std::string server_name,
                      federation::RemoteKeyStore* keys = nullptr);

  // Where a kick or ban of a local user invited to a room this server is not in goes (without one, such
  // PDUs are ignored like any other of an unknown room).
  void set_invites(RemoteInvites* invites) { invites_ = invites; }

  // The transaction `body` from the authenticated `origin`: {"pdus": {event_id: {} | {"error": "..."}}}.
  // 400 M_BAD_JSON / M_TOO_LARGE for a malformed or oversized transaction; 429 while the same transaction
  // is being handled.
  Task<nlohmann::json> receive(std::string origin, std::string txn_id, nlohmann::json body);
  // Fetches the signing keys the pipeline will need for `pdus` that it does not have yet (also for the
  // events of send_join and send_leave). `pdus` must outlive the await.
  Task<void> fetch_signing_keys(const std::vector<nlohmann::json>& pdus, const std::string& origin);

 private:
  // `results` is the caller's, awaited at once.
  Task<void> receive_room(std::string origin, RoomId room, std::vector<nlohmann::json> pdus, nlohmann::json& results);
  // Hands the member events of `pdus` (of a room this server is not in) to RemoteInvites::withdraw;
  // which of `pdus` ended an invite. `pdus` must outlive the await.
  Task<std::vector<bool>> withdraw_invites(const std::string& origin, const RoomId& room,
                                           const std::vector<nlohmann::json>& pdus);
  // Asks the origin for what `waiting` (outliers of this transaction) lack and hands it in; adds the
  // outliers that lets in to `unblocked` (the caller's, awaited at once).
  Task<void> fetch_missing(std::string origin, RoomId room, std::vector<std::string> waiting,
                           std::vector<std::string>& unblocked);
  // Hands stored outliers that were waiting for events just accepted to the pipeline again; their entries
  // in `results`, when this transaction carried them, follow the new outcome.
  Task<void> hand_in_again(RoomId room, std::vector<std::string> unblocked, nlohmann::json& results);
  void count(const char* outcome, std::uint64_t n = 1);

  storage::Database& db_;
  RoomService& rooms_;
  FederationRoomReader& reader_;
  MissingEventsFetcher& fetcher_;
  http::Metrics& metrics_;
  const Clock& clock_;
  std::string server_name_;
  federation::RemoteKeyStore* keys_;
  RemoteInvites* invites_ = nullptr;
  std::mutex mutex_;
  std::set<std::string> in_flight_;  // origin + '\n' + txn_id
};

}  // namespace herald::homeserver
