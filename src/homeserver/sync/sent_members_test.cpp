#include "homeserver/sync/sent_members.h"

#include <gtest/gtest.h>

namespace herald::homeserver {
namespace {

TEST(SentMembers, RemembersPerClientUntilReset) {
  SentMembers sent;
  sent.record("@a:hs|D1", {"$m1", "$m2"});
  EXPECT_TRUE(sent.was_sent("@a:hs|D1", "$m1"));
  EXPECT_FALSE(sent.was_sent("@a:hs|D2", "$m1"));
  EXPECT_FALSE(sent.was_sent("@a:hs|D1", "$m3"));
  sent.reset("@a:hs|D1");
  EXPECT_FALSE(sent.was_sent("@a:hs|D1", "$m1"));
}

TEST(SentMembers, EvictsTheLeastRecentlyUsedClients) {
  SentMembers sent(10, 100);
  for (int i = 0; i < 10; ++i) sent.record("c" + std::to_string(i), {"$e"});
  sent.record("c0", {"$f"});  // c0 is now the most recent
  sent.record("c10", {"$e"});  // over the cap: the least recent (c1) goes
  EXPECT_TRUE(sent.was_sent("c0", "$e"));
  EXPECT_FALSE(sent.was_sent("c1", "$e"));
  EXPECT_TRUE(sent.was_sent("c10", "$e"));
}

TEST(SentMembers, AClientOverItsCapStartsAgain) {
  SentMembers sent(10, 3);
  sent.record("c", {"$1", "$2", "$3"});
  sent.record("c", {"$4"});
  EXPECT_FALSE(sent.was_sent("c", "$1"));
  EXPECT_TRUE(sent.was_sent("c", "$4"));
}

}  // namespace
}  // namespace herald::homeserver
