#pragma once
// Every change to a room goes through here: lock (the single writer) -> read state -> build the event
// -> auth rules -> append -> update memory; then the notifier wakes /sync. No network I/O inside.
// A membership change or event sent to an idle room is built and signed before the lock, on the io
// thread; the writer stores it only if the room has not changed since (Room::applied), else builds it
// again.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"
#include "events/event_builder.h"
#include "homeserver/accounts/profile_cache.h"
#include "homeserver/membership/remote_queries.h"
#include "federation/server_key_ring.h"
#include "homeserver/rooms/event_pipeline.h"
#include "homeserver/rooms/local_event_outbox.h"
#include "homeserver/rooms/remote_inviter.h"
#include "homeserver/rooms/room_registry.h"
#include "homeserver/rooms/room_snapshot.h"
#include "rooms/membership.h"
#include "storage/room_store.h"
#include "storage/sql_room_write_transaction.h"

namespace herald {
class Clock;
namespace crypto {
class SigningKey;
}
namespace storage {
class Database;
namespace sql {
class Connection;
}
}  // namespace storage
}  // namespace herald

namespace herald::homeserver {

class Notifier;
class StreamCounter;

struct RoomServiceOptions {
  std::string server_name;
  std::string default_room_version = "12";
};

struct CreateRoomRequest {
  std::optional<std::string> visibility;
  std::optional<std::string> preset;
  std::optional<std::string> room_alias_name;
  std::optional<std::string> name;
  std::optional<std::string> topic;
  std::optional<std::string> room_version;
  std::vector<UserId> invite;
  nlohmann::json initial_state = nlohmann::json::array();
  nlohmann::json creation_content = nlohmann::json::object();
  nlohmann::json power_level_content_override;  // null when absent
  bool is_direct = false;
};

// make_join / make_leave: the room's version and the unsigned template the remote server fills in.
struct MembershipTemplate {
  std::string room_version;
  nlohmann::json event;
};

// What a membership change asks beyond the membership itself: an unban is a leave that needs the target
// banned (else 400 M_BAD_STATE).
enum class MembershipIntent { plain, unban };

class RoomService {
 public:
  RoomService(storage::Database& db, RoomRegistry& registry, Notifier& notifier, StreamCounter& stream,
              ProfileCache& profiles, const crypto::SigningKey& key, const Clock& clock, RoomServiceOptions options);

  const RoomServiceOptions& options() const { return options_; }
  // Where local events go to reach other servers (set once at wiring, before serving: the outbox needs
  // the federation layer, which needs this service's key ring). Null: nothing is sent.
  void set_outbox(LocalEventOutbox* outbox) { outbox_ = outbox; }
  // Who asks another server to countersign an invite of one of its users before it is committed (set
  // once at wiring). Null: such invites are committed directly.
  void set_inviter(RemoteInviter* inviter) { inviter_ = inviter; }
  // Who asks another server for its user's profile, which an invite of that user carries (set once at
  // wiring). Null: such invites carry no profile.
  void set_remote_queries(RemoteQueries* queries) { queries_ = queries; }
  RoomRegistry& registry() { return registry_; }

  // Local invitees who block invites are left out (the room is still created), as are remote ones whose
  // server refuses the invite.
  Task<std::string> create_room(UserId creator, CreateRoomRequest request);
  // A message or state event; idempotent per (device, txn_key) when txn_key is set. Returns the event ID.
  Task<std::string> send(UserId sender, std::string device_id, RoomId in_room, events::EventDraft draft,
                         std::optional<std::string> txn_key);
  // invite / join / leave / ban / knock of `target` by `sender`, with the pre-checks clients expect. An
  // invite of a local user who blocks invites is 403 M_INVITE_BLOCKED.
  // Inviting a user of another server: built and auth-checked in one write job, countersigned by the
  // invitee's server (RemoteInviter, no job open), then committed in a second job that checks the auth
  // rules again when the room changed meanwhile; a refusal or an unreachable server stores nothing.
  Task<std::string> set_membership(UserId sender, RoomId in_room, UserId target, rooms::Membership kind,
                                   std::optional<std::string> reason, nlohmann::json extra_content,
                                   MembershipIntent intent = MembershipIntent::plain);
  Task<void> forget(UserId user, RoomId in_room);

  Task<std::optional<std::string>> resolve_alias(std::string alias);
  Task<void> create_alias(UserId sender, std::string alias, std::string room_id);
  Task<void> delete_alias(UserId sender, std::string alias);

  // The room (loaded through a reader when needed), or nullptr when unknown.
  Task<std::shared_ptr<Room>> find_room(RoomId in_room);
  // The room, or 404 M_NOT_FOUND.
  Task<std::shared_ptr<Room>> require_room(RoomId in_room);
  // Updates the user's displayname/avatar_url and sends a fresh join event into every joined room.
  Task<void> set_profile(UserId user, std::optional<std::string> displayname, std::optional<std::string> avatar_url,
                         bool set_displayname, bool set_avatar);

  std::int64_t stream_position() const;

  // Servers whose events this server can verify (its own key, and those added here).
  federation::StaticServerKeyRing& server_keys() { return server_keys_; }
  // Events received from elsewhere, through the event pipeline in order; wakes /sync for the accepted.
  Task<std::vector<Received>> receive(RoomId in_room, std::vector<nlohmann::json> pdus);

  // make_join / make_leave / make_knock (federation.md §7-8, §10): `membership` ("join", "leave" or
  // "knock") of the remote `user`,
  // built as a local event would be on the current state (prev_events, auth_events, depth; a restricted
  // room's join names a local user who vouches for it) and returned without hashes and signatures.
  // 404 M_NOT_FOUND when the room is unknown or none of this server's users is in it; 400
  // M_INCOMPATIBLE_ROOM_VERSION when the room's version is not in `supported` (["1"] when empty) or, for a
  // knock, has no knocking (before v7); 403 M_FORBIDDEN when the auth rules refuse it on the current state
  // (a knock on a room whose join rule is not knock, say).
  Task<MembershipTemplate> membership_template(RoomId in_room, UserId user, std::string membership,
                                               std::vector<std::string> supported);
  // send_join / send_leave: a membership event a remote server built from such a template, through the
  // pipeline like any received event (co-signed first when it names a local user as the authoriser of a
  // restricted join). When accepted it is also queued for the room's other servers: this server is the
  // one that relays it.
  Task<Received> receive_relayed(RoomId in_room, nlohmann::json pdu);

  // A local user's join of a room this server is not in, made through another server (make_join and
  // send_join by the RemoteJoiner, which checked the answer into `snapshot`): the snapshot becomes the
  // room's state and the join its first timeline event; the user's /sync wakes. 403 M_FORBIDDEN when
  // that state does not allow the join. When this server joined the room meanwhile (another local user's
  // join got there first), the join is received like any event from elsewhere; should it not fit the
  // room's graph here (it names events this server lacks), returns nullopt: the caller joins locally now
  // that it can. Else returns the join's stream position.
  Task<std::optional<std::int64_t>> join_from_snapshot(RoomId in_room, const events::RoomVersion& version, RoomSnapshot snapshot,
                                        events::EventPtr join);

 private:
  // Those of `invitees` (users of this server) who block invites (invite_permission.h), read before the
  // write job so the writer never reads account data for it.
  Task<std::set<std::string>> blocking_invites(std::vector<std::string> invitees);
  // displayname and avatar_url of a user of another server, asked of that server, for the content of an
  // invite of that user; empty when they cannot be had (the invite goes on without them).
  Task<nlohmann::json> remote_profile_content(UserId user);
  // A join that a restricted room's `allow` rules may authorise needs other rooms' state (a database read).
  static bool may_need_authoriser(const Room& room, const std::string& membership);
  struct Appended {
    events::EventPtr event;
    std::int64_t stream;
    std::vector<std::string> destinations = {};  // servers it was queued for (local events)
  };
  // Runs a write job that changes a room; forgets the room's memory when the write fails for other
  // reasons than a refusal. `job` must outlive the await (the caller's local).
  Task<void> write_room(std::string room_id, std::function<void(storage::sql::Connection&)>& job);
  struct Built {
    LocalEvent local;  // stream assigned when stored
    std::optional<std::string> redacts;
  };
  struct MembershipRequest {
    std::string sender, target, membership;
    std::optional<std::string> reason;
    nlohmann::json extra_content;
    bool unban = false;
  };
  struct Plan {
    std::string event_id;         // the new event's, or the existing one's when nothing changes
    std::optional<Built> built;   // empty: nothing to write
  };

  // A plan made on the io thread against a cached room that had nothing queued for the writer. The
  // writer uses it only if the room is still that object with no event applied since; else it plans
  // again from scratch.
  struct EarlyPlan {
    std::shared_ptr<Room> room;  // as cached when planned; null when the room was not in memory
    std::uint64_t applied = 0;   // room->applied when planned
    std::optional<Plan> plan;    // empty: not planned early
    std::optional<Plan> take_if_current(const std::shared_ptr<Room>& current);
  };
  // Runs `make` under the room's shared lock when the room is cached and idle (make may decline).
  EarlyPlan plan_early(const std::string& room_id, const std::function<std::optional<Plan>(const Room&)>& make) const;

  // Builds `draft` on the room's current state, checks the auth rules (a refusal throws) and signs it;
  // changes nothing. Caller holds the room's lock (shared is enough) or is the writer.
  Built build(const Room& room, const events::EventDraft& draft, std::int64_t now) const;
  // First thing in each room write job: whether another process may have written since the previous
  // job (SQLite's data_version; always true for a driver that cannot tell). Only then are cached rooms
  // and the stream counter and state group IDs checked against storage.
  void begin_write_job(storage::sql::Connection& c);
  storage::SqlRoomWriteTransaction room_transaction(storage::sql::Connection& c);
  // On the writer thread inside a job: stores a built event (next stream position) and applies it.
  Appended commit_built(storage::sql::Connection& c, Room& room, Built built);
  Appended append(storage::sql::Connection& c, Room& room, const events::EventDraft& draft, std::int64_t now);
  // The pre-checks clients expect (already invited, not in the room...), then build(). Same locking.
  Plan plan_membership(const Room& room, const MembershipRequest& request, nlohmann::json content,
                       const std::optional<std::string>& authoriser, std::int64_t now) const;
  // The no-op check for identical state, then build(). Same locking.
  Plan plan_send(const Room& room, events::EventDraft draft, std::int64_t now) const;
  // Member event content with the target's profile: read on the writer (and cached), or from the cache.
  nlohmann::json member_content(storage::sql::Connection& c, const std::string& target, const std::string& membership);
  std::optional<nlohmann::json> cached_member_content(const std::string& target, const std::string& membership) const;
  // For a restricted room: a local joined user who may invite, when `user` meets an `allow` condition.
  std::optional<std::string> restricted_join_authoriser(storage::sql::Connection& c, const Room& room,
                                                        const std::string& user);
  struct RestrictedJoin {
    bool judged = false;     // some room of the `allow` list is one this server is in
    bool qualifies = false;  // the user is joined to one of those
    std::optional<std::string> authoriser;  // a local user who may invite, when the user qualifies
  };
  RestrictedJoin check_restricted_join(storage::sql::Connection& c, const Room& room, const std::string& user);
  void notify(const std::vector<Appended>& appended, const Room& room);
  // A restricted join naming a local user as its authoriser gets this server's signature (the auth rules
  // require it).
  void co_sign_restricted_join(const Room& room, nlohmann::json& pdu) const;

  storage::Database& db_;
  RoomRegistry& registry_;
  Notifier& notifier_;
  StreamCounter& stream_;
  // Writer thread only.
  std::optional<std::int64_t> seen_data_version_;
  bool others_wrote_ = true;
  std::int64_t next_state_group_ = 0;  // the next free state group ID; 0: read it (another process wrote)
  const crypto::SigningKey& key_;
  const Clock& clock_;
  RoomServiceOptions options_;
  ProfileCache& profiles_;
  federation::StaticServerKeyRing server_keys_;
  EventPipeline pipeline_{server_keys_};
  LocalEventOutbox* outbox_ = nullptr;
  RemoteInviter* inviter_ = nullptr;
  RemoteQueries* queries_ = nullptr;
};

}  // namespace herald::homeserver
