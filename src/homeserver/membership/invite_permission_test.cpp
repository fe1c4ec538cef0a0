#include "homeserver/membership/invite_permission.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/matrix_error.h"

namespace herald::homeserver::invite_permission {
namespace {

TEST(InvitePermission, OnlyDefaultActionBlockBlocks) {
  EXPECT_TRUE(blocks_invites({{"default_action", "block"}}));
  EXPECT_TRUE(blocks_invites({{"default_action", "block"}, {"other", 1}}));
  EXPECT_FALSE(blocks_invites({{"default_action", "allow"}}));
  EXPECT_FALSE(blocks_invites({{"default_action", "BLOCK"}}));
  EXPECT_FALSE(blocks_invites(nlohmann::json::object()));
  EXPECT_FALSE(blocks_invites(nlohmann::json()));
  EXPECT_FALSE(blocks_invites(nlohmann::json::array({"block"})));
}

TEST(InvitePermission, AMistypedActionLetsInvitesThrough) {
  EXPECT_FALSE(blocks_invites({{"default_action", 5}}));
  EXPECT_FALSE(blocks_invites({{"default_action", nullptr}}));
  EXPECT_FALSE(blocks_invites({{"default_action", {{"block", true}}}}));
}

TEST(InvitePermission, RefusalIsInviteBlocked) {
  bool thrown = false;
  try {
    refuse();
  } catch (const MatrixError& e) {
    thrown = true;
    EXPECT_EQ(e.errcode(), "M_INVITE_BLOCKED");
    EXPECT_EQ(e.http_status(), 403);
  }
  EXPECT_TRUE(thrown);
}

}  // namespace
}  // namespace herald::homeserver::invite_permission
