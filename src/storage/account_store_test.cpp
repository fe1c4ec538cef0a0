#include "storage/account_store.h"

#include <gtest/gtest.h>

#include "storage/database.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/run_task.h"

namespace herald::storage {

class AccountStoreTest : public ::testing::Test {
 protected:
  herald::testing::TempDir dir_;
  Database db_{sqlite::connection_factory((dir_.path() / "db.sqlite").string())};
};

TEST_F(AccountStoreTest, UsersAreUnique) {
  db_.write_sync([](sql::Connection& c) {
    EXPECT_TRUE(account_store::insert_user(c, StoredUser{.user_id = "@a:hs", .password_hash = "h"}, 1));
    EXPECT_FALSE(account_store::insert_user(c, StoredUser{.user_id = "@a:hs"}, 2));
    EXPECT_TRUE(account_store::user_exists(c, "@a:hs"));
    EXPECT_EQ(account_store::find_user(c, "@a:hs")->password_hash, "h");
    EXPECT_FALSE(account_store::find_user(c, "@b:hs"));
  });
}

TEST_F(AccountStoreTest, TokensBelongToDevices) {
  db_.write_sync([](sql::Connection& c) {
    account_store::insert_user(c, StoredUser{.user_id = "@a:hs"}, 1);
    account_store::ensure_device(c, "@a:hs", "D1", "phone", 1);
    account_store::ensure_device(c, "@a:hs", "D2", std::nullopt, 1);
    account_store::insert_token(c, "t1", "@a:hs", "D1", 1);
    account_store::insert_token(c, "t2", "@a:hs", "D2", 1);
    EXPECT_EQ(account_store::find_session(c, "t1")->device_id, "D1");
    EXPECT_EQ(account_store::delete_device(c, "@a:hs", "D1"), std::vector<std::string>{"t1"});
    EXPECT_FALSE(account_store::find_session(c, "t1"));
    EXPECT_TRUE(account_store::find_session(c, "t2"));
    EXPECT_EQ(account_store::delete_all_devices(c, "@a:hs"), std::vector<std::string>{"t2"});
    EXPECT_FALSE(account_store::find_session(c, "t2"));
  });
}

}  // namespace herald::storage
