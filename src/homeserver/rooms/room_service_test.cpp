#include "homeserver/rooms/room_service.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <map>
#include <thread>

#include "core/clock.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "core/matrix_error.h"
#include "storage/account_data_store.h"
#include "storage/account_store.h"
#include "storage/database.h"
#include "storage/room_store.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/room_service_fixture.h"
#include "tests/support/run_task.h"

namespace herald::homeserver {
using testing::run_task;

namespace {
// Time stands still: every request lands in the same millisecond.
class FrozenClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return 1'700'000'000'000; }
  double monotonic_seconds() const override { return 1.0; }
};
}  // namespace

using RoomServiceTest = testing::RoomServiceFixture<FrozenClock>;

TEST_F(RoomServiceTest, IdenticalV12RoomsInOneMillisecondGetTheirOwnIds) {
  // In v12 the room ID is the create event's hash, and these create events would be byte-identical.
  const UserId alice = UserId::parse("@alice:hs.test").value();
  CreateRoomRequest request;
  request.preset = "private_chat";
  const std::string first = run_task(rooms_.create_room(alice, request));
  const std::string second = run_task(rooms_.create_room(alice, request));
  EXPECT_NE(first, second);
  db_.read_sync([&](storage::sql::Connection& c) {
    EXPECT_TRUE(storage::room_store::find_room(c, first));
    EXPECT_TRUE(storage::room_store::find_room(c, second));
    EXPECT_EQ(storage::room_store::membership(c, second, alice.str())->membership, "join");
  });
}

namespace {
Task<void> invite_then_join(RoomService& rooms, UserId alice, std::string room_id, UserId user, int& failures) {
  try {
    const RoomId room = RoomId::parse(room_id).value();
    co_await rooms.set_membership(alice, room, user, herald::rooms::Membership::invite, std::string("welcome"), nlohmann::json::object());
    co_await rooms.set_membership(user, room, user, herald::rooms::Membership::join, std::nullopt, nlohmann::json::object());
  } catch (const std::exception&) {
    ++failures;
  }
}
}  // namespace

TEST_F(RoomServiceTest, ConcurrentMembershipChangesFormOneChainInStreamOrder) {
  // Changes are built either on the requesting thread (room idle, profile cached) or on the writer;
  // either way the room's events must chain one after another in the order they are stored.
  const UserId alice = UserId::parse("@alice:hs.test").value();
  CreateRoomRequest request;
  request.preset = "private_chat";
  const std::string room_id = run_task(rooms_.create_room(alice, request));
  std::vector<UserId> users;
  db_.write_sync([&](storage::sql::Connection& c) {
    for (int i = 0; i < 60; ++i) {
      const std::string id = "@u" + std::to_string(i) + ":hs.test";
      storage::StoredUser user{id, std::nullopt};
      user.displayname = "User " + std::to_string(i);
      storage::account_store::insert_user(c, user, 0);
      if (i % 2 == 0) profiles_.put(id, Profile{user.displayname, std::nullopt});  // half known up front
      users.push_back(UserId::parse(id).value());
    }
  });
  boost::asio::io_context io;
  int failures = 0;
  for (const auto& u : users) boost::asio::co_spawn(io, invite_then_join(rooms_, alice, room_id, u, failures), boost::asio::detached);
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  // Then one at a time: the room is idle, so these are built on the requesting thread.
  for (int i = 0; i < 4; i += 2) run_task(invite_then_join(rooms_, alice, room_id, users[static_cast<std::size_t>(i)], failures));
  EXPECT_EQ(failures, 2);  // already joined: refused from the state as it is
  failures = 0;
  db_.write_sync([&](storage::sql::Connection& c) {
    storage::StoredUser late{"@late:hs.test", std::nullopt};
    late.displayname = "Late";
    storage::account_store::insert_user(c, late, 0);
  });
  profiles_.put("@late:hs.test", Profile{"Late", std::nullopt});
  run_task(invite_then_join(rooms_, alice, room_id, UserId::parse("@late:hs.test").value(), failures));
  EXPECT_EQ(failures, 0);

  db_.read_sync([&](storage::sql::Connection& c) {
    std::string previous;
    std::int64_t depth = 0;
    int members = 0;
    for (const auto& row : c.query("SELECT event_id, pdu FROM events WHERE room_id = $1 ORDER BY stream_ordering", {room_id})) {
      const auto pdu = nlohmann::json::parse(row.get_text(1));
      if (!previous.empty()) {
        EXPECT_EQ(pdu["prev_events"], nlohmann::json::array({previous}));
        EXPECT_EQ(pdu["depth"].get<std::int64_t>(), depth + 1);
      }
      previous = row.get_text(0);
      depth = pdu["depth"].get<std::int64_t>();
      if (pdu["type"] == "m.room.member" && pdu["content"]["membership"] == "join") ++members;
    }
    EXPECT_EQ(members, 62);  // alice, every user and the late one
    for (int i = 0; i < 60; ++i) {
      const auto m = storage::room_store::membership(c, room_id, "@u" + std::to_string(i) + ":hs.test");
      ASSERT_TRUE(m);
      EXPECT_EQ(m->membership, "join");
      const auto event = storage::room_store::find_event(c, m->event_id);
      EXPECT_EQ(nlohmann::json::parse(event->pdu)["content"]["displayname"], "User " + std::to_string(i));
    }
  });
}

TEST_F(RoomServiceTest, SendsToAnIdleRoomKeepTransactionsAndStateNoOps) {
  const UserId alice = UserId::parse("@alice:hs.test").value();
  CreateRoomRequest request;
  request.preset = "private_chat";
  const std::string room_id = run_task(rooms_.create_room(alice, request));
  const RoomId room = RoomId::parse(room_id).value();
  const events::EventDraft message{"m.room.message", std::nullopt, "", {{"msgtype", "m.text"}, {"body", "hi"}}, std::nullopt};
  const std::string first = run_task(rooms_.send(alice, "DEV", room, message, std::string("txn1")));
  EXPECT_EQ(run_task(rooms_.send(alice, "DEV", room, message, std::string("txn1"))), first);  // retried
  EXPECT_NE(run_task(rooms_.send(alice, "DEV", room, message, std::string("txn2"))), first);
  const events::EventDraft topic{"m.room.topic", std::string(), "", {{"topic", "t"}}, std::nullopt};
  const std::string set = run_task(rooms_.send(alice, "DEV", room, topic, std::nullopt));
  EXPECT_EQ(run_task(rooms_.send(alice, "DEV", room, topic, std::nullopt)), set);  // identical state: no-op
  db_.read_sync([&](storage::sql::Connection& c) {
    const auto count = c.query_one("SELECT COUNT(*) FROM events WHERE room_id = $1 AND type IN ('m.room.message', 'm.room.topic')",
                                   {room_id})->get_int(0);
    EXPECT_EQ(count, 3);
  });
}

namespace {
// Answers profile queries from a table; a user not in it makes the server unreachable.
class FakeRemoteQueries final : public RemoteQueries {
 public:
  std::map<std::string, nlohmann::json> profiles;
  int asked = 0;
  Task<std::optional<nlohmann::json>> profile(UserId user, std::optional<std::string>) override {
    ++asked;
    auto it = profiles.find(user.str());
    if (it == profiles.end()) throw MatrixError(Errc::unknown, "unreachable", 502);
    co_return it->second;
  }
  Task<std::optional<ResolvedAlias>> resolve_alias(std::string) override { co_return std::nullopt; }
};

std::string member_content_of(storage::Database& db, const std::string& room_id, const std::string& user, nlohmann::json& out) {
  std::string membership;
  db.read_sync([&](storage::sql::Connection& c) {
    const auto m = storage::room_store::membership(c, room_id, user);
    if (!m) return;
    membership = m->membership;
    out = nlohmann::json::parse(storage::room_store::find_event(c, m->event_id)->pdu)["content"];
  });
  return membership;
}
}  // namespace

class InviteBlockingTest : public RoomServiceTest {
 protected:
  void SetUp() override {
    RoomServiceTest::SetUp();
    db_.write_sync([](storage::sql::Connection& c) {
      for (const char* user : {"@bob:hs.test", "@carol:hs.test"})
        storage::account_store::insert_user(c, storage::StoredUser{user, std::nullopt}, 0);
      storage::account_data_store::upsert(c, "@bob:hs.test", "", "m.invite_permission_config",
                                          R"({"default_action":"block"})", 1);
    });
  }
  const UserId alice = UserId::parse("@alice:hs.test").value();
  const UserId bob = UserId::parse("@bob:hs.test").value();
  const UserId carol = UserId::parse("@carol:hs.test").value();
};

TEST_F(InviteBlockingTest, AnInviteOfAUserWhoBlocksIsRefusedAndNothingStored) {
  CreateRoomRequest request;
  request.preset = "private_chat";
  const std::string room_id = run_task(rooms_.create_room(alice, request));
  const RoomId room = RoomId::parse(room_id).value();
  try {
    run_task(rooms_.set_membership(alice, room, bob, herald::rooms::Membership::invite, std::nullopt, nlohmann::json::object()));
    ADD_FAILURE() << "the invite went through";
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.errcode(), "M_INVITE_BLOCKED");
    EXPECT_EQ(e.http_status(), 403);
  }
  nlohmann::json content;
  EXPECT_EQ(member_content_of(db_, room_id, bob.str(), content), "");
  run_task(rooms_.set_membership(alice, room, carol, herald::rooms::Membership::invite, std::nullopt, nlohmann::json::object()));
  EXPECT_EQ(member_content_of(db_, room_id, carol.str(), content), "invite");
}

TEST_F(InviteBlockingTest, CreateRoomLeavesTheBlockingInviteeOut) {
  CreateRoomRequest request;
  request.preset = "private_chat";
  request.invite = {bob, carol};
  const std::string room_id = run_task(rooms_.create_room(alice, request));
  nlohmann::json content;
  EXPECT_EQ(member_content_of(db_, room_id, alice.str(), content), "join");
  EXPECT_EQ(member_content_of(db_, room_id, bob.str(), content), "");
  EXPECT_EQ(member_content_of(db_, room_id, carol.str(), content), "invite");
}

TEST_F(RoomServiceTest, AnInviteOfARemoteUserCarriesTheirProfileWhenItCanBeHad) {
  FakeRemoteQueries queries;
  queries.profiles["@bob:remote.test"] = {{"displayname", "Bob"}, {"avatar_url", std::string(2000, 'a')}, {"m.tz", "UTC"}};
  rooms_.set_remote_queries(&queries);
  const UserId alice = UserId::parse("@alice:hs.test").value();
  CreateRoomRequest request;
  request.preset = "private_chat";
  const std::string room_id = run_task(rooms_.create_room(alice, request));
  const RoomId room = RoomId::parse(room_id).value();
  run_task(rooms_.set_membership(alice, room, UserId::parse("@bob:remote.test").value(), herald::rooms::Membership::invite,
                                 std::nullopt, nlohmann::json{{"is_direct", true}}));
  nlohmann::json content;
  EXPECT_EQ(member_content_of(db_, room_id, "@bob:remote.test", content), "invite");
  // The too long avatar_url and the other keys stay out.
  EXPECT_EQ(content, (nlohmann::json{{"membership", "invite"}, {"displayname", "Bob"}, {"is_direct", true}}));
  // An unreachable server: the invite goes on without a profile.
  run_task(rooms_.set_membership(alice, room, UserId::parse("@dan:gone.test").value(), herald::rooms::Membership::invite,
                                 std::nullopt, nlohmann::json::object()));
  EXPECT_EQ(member_content_of(db_, room_id, "@dan:gone.test", content), "invite");
  EXPECT_EQ(content, (nlohmann::json{{"membership", "invite"}}));
  EXPECT_EQ(queries.asked, 2);
}

}  // namespace herald::homeserver
