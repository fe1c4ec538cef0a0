#include "homeserver/rooms/room_service.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "homeserver/sync/notifier.h"
#include "storage/account_store.h"
#include "storage/database.h"
#include "storage/room_store.h"
#include "storage/sqlite/sqlite_connection.h"
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

class RoomServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::init();
    db_.write_sync([](storage::sql::Connection& c) {
      storage::account_store::insert_user(c, storage::StoredUser{"@alice:hs.test", std::nullopt}, 0);
    });
  }
  herald::testing::TempDir dir_;
  storage::Database db_{storage::sqlite::connection_factory((dir_.path() / "db.sqlite").string())};
  RoomRegistry registry_;
  Notifier notifier_{0};
  crypto::SigningKey key_ = crypto::SigningKey::generate("test");
  FrozenClock clock_;
  RoomService rooms_{db_, registry_, notifier_, key_, clock_, {.server_name = "hs.test", .default_room_version = "12"}};
};

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

}  // namespace herald::homeserver
