#include "homeserver/accounts/account_service.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "homeserver/accounts/user_interactive_auth.h"
#include "core/worker_pool.h"
#include "storage/database.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/run_task.h"

namespace herald::homeserver {
using testing::run_task;

class AccountServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { crypto::init(); }
  herald::testing::TempDir dir_;
  storage::Database db_{storage::sqlite::connection_factory((dir_.path() / "db.sqlite").string())};
  WorkerPool workers_{1};
  SystemClock clock_;
  AccountService accounts_{db_, workers_, clock_,
                           {.server_name = "hs.test", .password_cost = crypto::PasswordCost::minimal()}};
};

TEST_F(AccountServiceTest, LocalpartRules) {
  EXPECT_EQ(accounts_.validate_new_localpart("Alice"), "alice");
  for (const char* bad : {"", "a b", "_hidden", "12345", "al:ice", "é"}) {
    try {
      accounts_.validate_new_localpart(bad);
      FAIL() << bad;
    } catch (const MatrixError& e) {
      EXPECT_EQ(e.errc(), Errc::invalid_username) << bad;
    }
  }
}

TEST_F(AccountServiceTest, RegisterLoginLogout) {
  run_task([&]() -> Task<void> {
    NewAccount a;
    a.localpart = "alice";
    a.password = "secret";
    const LoginResult reg = co_await accounts_.register_account(a);
    EXPECT_EQ(reg.user_id, "@alice:hs.test");
    EXPECT_TRUE(reg.access_token);
    if (!reg.access_token) co_return;
    auto session = co_await accounts_.session_for_token(*reg.access_token);
    EXPECT_TRUE(session);
    if (!session) co_return;
    EXPECT_EQ(session->device_id, *reg.device_id);

    bool in_use = false;
    try {
      co_await accounts_.register_account(a);
    } catch (const MatrixError& e) {
      in_use = e.errc() == Errc::user_in_use;
    }
    EXPECT_TRUE(in_use);

    const UserId alice = UserId::parse("@alice:hs.test").value();
    EXPECT_FALSE(co_await accounts_.login_with_password(alice, "wrong", std::nullopt, std::nullopt));
    auto login = co_await accounts_.login_with_password(alice, "secret", std::string("PHONE"), std::nullopt);
    EXPECT_TRUE(login);
    if (!login) co_return;
    EXPECT_EQ(login->device_id, "PHONE");

    // Same device again: the older token of that device stops working.
    auto again = co_await accounts_.login_with_password(alice, "secret", std::string("PHONE"), std::nullopt);
    EXPECT_FALSE(co_await accounts_.session_for_token(*login->access_token));
    EXPECT_TRUE(co_await accounts_.session_for_token(*again->access_token));

    Session phone{alice, "PHONE"};  // named first: GCC 12 double-frees aggregates built inside co_await
    co_await accounts_.logout(phone);
    EXPECT_FALSE(co_await accounts_.session_for_token(*again->access_token));
    EXPECT_TRUE(co_await accounts_.session_for_token(*reg.access_token));
    co_await accounts_.logout_all(alice);
    EXPECT_FALSE(co_await accounts_.session_for_token(*reg.access_token));
  }());
}

TEST_F(AccountServiceTest, InhibitLoginGivesNoToken) {
  NewAccount a;
  a.localpart = "bob";
  a.inhibit_login = true;
  const LoginResult r = run_task(accounts_.register_account(a));
  EXPECT_FALSE(r.access_token);
  EXPECT_FALSE(r.device_id);
}

TEST_F(AccountServiceTest, PasswordStageIsBoundToItsUserAndEndsWhenComplete) {
  RateLimiter limiter({.enabled = false}, clock_);
  UserInteractiveAuth uia(clock_, accounts_, limiter);
  run_task([&]() -> Task<void> {
    NewAccount a;
    a.localpart = "carol";
    a.password = "secret";
    co_await accounts_.register_account(a);
    const UserId carol = UserId::parse("@carol:hs.test").value();
    const UserId dave = UserId::parse("@dave:hs.test").value();

    auto first = co_await uia.require_password(carol, std::nullopt);
    EXPECT_TRUE(first);
    if (!first) co_return;
    const std::string session = (*first)["session"];
    EXPECT_EQ((*first)["completed"], nlohmann::json::array());

    nlohmann::json wrong = {{"type", "m.login.password"}, {"session", session}, {"password", "nope"},
                            {"identifier", {{"type", "m.id.user"}, {"user", "carol"}}}};
    auto refused = co_await uia.require_password(carol, wrong);
    EXPECT_TRUE(refused && (*refused)["errcode"] == "M_FORBIDDEN" && (*refused)["session"] == session);

    // Dave cannot use Carol's session.
    nlohmann::json dave_auth = wrong;
    dave_auth["identifier"]["user"] = "dave";
    bool unknown = false;
    try {
      co_await uia.require_password(dave, dave_auth);
    } catch (const MatrixError& e) {
      unknown = e.errc() == Errc::unknown;
    }
    EXPECT_TRUE(unknown);

    nlohmann::json right = wrong;
    right["password"] = "secret";
    EXPECT_FALSE(co_await uia.require_password(carol, right));
    // A retry with only the session is complete too, until the request it authorised succeeds.
    nlohmann::json retry = {{"session", session}};
    EXPECT_FALSE(co_await uia.require_password(carol, retry));
    uia.complete(&retry);
    bool ended = false;
    try {
      co_await uia.require_password(carol, retry);
    } catch (const MatrixError& e) {
      ended = e.errc() == Errc::unknown;
    }
    EXPECT_TRUE(ended);
  }());
}

}  // namespace herald::homeserver
