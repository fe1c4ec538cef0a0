#include "homeserver/e2e/key_backup_service.h"

#include <gtest/gtest.h>

#include "core/matrix_error.h"

namespace herald::homeserver {
namespace {

RoomKeyRank rank(bool verified, std::int64_t index, std::int64_t forwarded) { return RoomKeyRank{verified, index, forwarded}; }

TEST(RoomKeyReplacement, AVerifiedKeyBeatsAnUnverifiedOneWhateverItsIndex) {
  EXPECT_TRUE(is_better_room_key(rank(true, 10, 5), rank(false, 0, 0)));
  EXPECT_FALSE(is_better_room_key(rank(false, 0, 0), rank(true, 10, 5)));
}

TEST(RoomKeyReplacement, ThenTheLowerFirstMessageIndex) {
  EXPECT_TRUE(is_better_room_key(rank(false, 1, 9), rank(false, 2, 0)));
  EXPECT_FALSE(is_better_room_key(rank(true, 3, 0), rank(true, 2, 9)));
}

TEST(RoomKeyReplacement, ThenTheLowerForwardedCount) {
  EXPECT_TRUE(is_better_room_key(rank(true, 2, 0), rank(true, 2, 1)));
  EXPECT_FALSE(is_better_room_key(rank(true, 2, 2), rank(true, 2, 1)));
}

TEST(RoomKeyReplacement, AnEqualKeyDoesNotReplaceTheStoredOne) {
  EXPECT_FALSE(is_better_room_key(rank(false, 4, 1), rank(false, 4, 1)));
}

TEST(KeyBackupBodies, ParsesKeyBackupDataAndNamesTheBadField) {
  const auto data = nlohmann::json::parse(
      R"({"first_message_index":1,"forwarded_count":0,"is_verified":true,"session_data":{"ciphertext":"x"}})");
  const BackedUpKey key = parse_key_backup_data(data, "!r:hs", "s1");
  EXPECT_EQ(key.rank.first_message_index, 1);
  EXPECT_TRUE(key.rank.is_verified);
  EXPECT_EQ(key.session_data["ciphertext"], "x");

  auto without = data;
  without.erase("is_verified");
  try {
    parse_key_backup_data(without, "!r:hs", "s1");
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.errc(), Errc::missing_param);
  }
  auto negative = data;
  negative["forwarded_count"] = -1;
  EXPECT_THROW(parse_key_backup_data(negative, "!r:hs", "s1"), MatrixError);
  EXPECT_THROW(parse_key_backup_data(data, "not-a-room", "s1"), MatrixError);
  EXPECT_THROW(parse_key_backup_data(data, "!r:hs", ""), MatrixError);
}

TEST(KeyBackupBodies, RefusesOversizedSessionData) {
  auto data = nlohmann::json::parse(R"({"first_message_index":0,"forwarded_count":0,"is_verified":false})");
  data["session_data"] = {{"ciphertext", std::string(20'000, 'a')}};
  try {
    parse_key_backup_data(data, "!r:hs", "s1");
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.errc(), Errc::too_large);
  }
}

}  // namespace
}  // namespace herald::homeserver
