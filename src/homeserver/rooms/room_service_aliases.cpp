// RoomService: room aliases (create, resolve, delete, and the canonical alias a deletion updates).
#include "homeserver/rooms/room_service.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "homeserver/membership/remote_membership.h"
#include "rooms/auth/auth_rules.h"
#include "storage/database.h"
#include "storage/room_store.h"
#include "storage/sql/connection.h"
#include "storage/sql_room_write_transaction.h"

namespace herald::homeserver {
using events::EventDraft;
using events::EventPtr;
namespace rs = storage::room_store;

namespace {
// Canonical alias content without `alias` (as alias or alt alias); nullopt when it does not name it.
std::optional<nlohmann::json> without_alias(const nlohmann::json& content, const std::string& alias) {
  nlohmann::json out = content;
  bool changed = false;
  if (auto a = out.find("alias"); a != out.end() && a->is_string() && a->get<std::string>() == alias) {
    out.erase("alias");
    changed = true;
  }
  if (auto alt = out.find("alt_aliases"); alt != out.end() && alt->is_array()) {
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& a : *alt)
      if (!(a.is_string() && a.get<std::string>() == alias)) kept.push_back(a);
    if (kept.size() != alt->size()) {
      *alt = std::move(kept);
      changed = true;
    }
  }
  if (!changed) return std::nullopt;
  return out;
}
}  // namespace

// Aliases ---------------------------------------------------------------------------------------------------

Task<std::optional<std::string>> RoomService::resolve_alias(std::string alias) {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return rs::alias_room(c, alias); });
}

Task<void> RoomService::create_alias(UserId sender, std::string alias, std::string room_id) {
  co_await db_.write([&](storage::sql::Connection& c) {
    begin_write_job(c);
    auto room = registry_.get_for_write(c, room_id, others_wrote_);
    if (!room) throw MatrixError(Errc::not_found, "Unknown room", 400);
    if (room->state.membership(sender.str()) != "join") throw MatrixError(Errc::forbidden, "You are not in this room");
    if (!rs::insert_alias(c, alias, room_id, sender.str())) {
      throw MatrixError(Errc::unknown, "Room alias " + alias + " already exists", 409);
    }
  });
}

Task<void> RoomService::delete_alias(UserId sender, std::string alias) {
  std::string deleted_from;
  co_await db_.write([&](storage::sql::Connection& c) {
    auto room_id = rs::alias_room(c, alias);
    if (!room_id) throw MatrixError(Errc::not_found, "Room alias " + alias + " not found");
    const auto creator = rs::alias_creator(c, alias);
    bool allowed = creator && *creator == sender.str();
    if (!allowed) {
      if (auto room = registry_.get(c, *room_id)) {
        const auto pl = room->state.power_levels();
        allowed = room->state.membership(sender.str()) == "join" &&
                  room->state.user_power(sender.str()) >= pl.event_level("m.room.canonical_alias", true);
      }
    }
    if (!allowed) throw MatrixError(Errc::forbidden, "You don't have permission to delete the alias");
    rs::delete_alias(c, alias);
    deleted_from = *room_id;
  });
  // The room's canonical alias event stops naming it, when the deleter may send one (as Synapse).
  const auto deleted_room = RoomId::parse(deleted_from);
  if (!deleted_room) co_return;
  std::shared_ptr<Room> room = co_await find_room(*deleted_room);
  if (!room) co_return;
  std::optional<nlohmann::json> content;
  {
    std::shared_lock lock(room->mutex);
    if (const EventPtr* e = room->state.find("m.room.canonical_alias")) content = without_alias((*e)->content(), alias);
  }
  if (!content) co_return;
  try {
    EventDraft draft{"m.room.canonical_alias", std::string(), sender.str(), std::move(*content), std::nullopt};
    co_await send(sender, "", *deleted_room, std::move(draft), std::nullopt);
  } catch (const MatrixError& e) {
    log::info("alias {} deleted; room {} keeps it in m.room.canonical_alias: {}", alias, deleted_from, e.message());
  }
}

}  // namespace herald::homeserver
