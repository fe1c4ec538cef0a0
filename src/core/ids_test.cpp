#include "core/ids.h"

#include <gtest/gtest.h>

namespace herald {

TEST(Ids, ServerNames) {
  struct Case {
    const char* name;
    bool valid;
  } cases[] = {
      {"matrix.org", true},  {"localhost:8008", true}, {"1.2.3.4:1234", true}, {"[1234:5678::abcd]", true},
      {"[::1]:8448", true},  {"", false},              {"a:", false},          {"a:123456", false},
      {"exa mple.org", false}, {"[::1", false},         {"a:b", false},
  };
  for (const auto& c : cases) EXPECT_EQ(is_valid_server_name(c.name), c.valid) << c.name;
}

TEST(Ids, UserIdParsesAtFirstColon) {
  auto id = UserId::parse("@alice:localhost:8008");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->localpart(), "alice");
  EXPECT_EQ(id->server_name(), "localhost:8008");
  EXPECT_EQ(UserId::parse("alice:x").error(), IdError::bad_sigil);
  EXPECT_EQ(UserId::parse("@alice").error(), IdError::no_server);
  EXPECT_EQ(UserId::parse("@a:bad server").error(), IdError::bad_server_name);
  EXPECT_EQ(UserId::parse("@" + std::string(260, 'a') + ":x").error(), IdError::too_long);
}

TEST(Ids, HistoricalLocalpartsArePrintableAsciiOnly) {
  EXPECT_TRUE(UserId::parse("@Alice!#$%:x"));  // historical IDs: any printable ASCII but ':'
  for (const std::string bad : {std::string("@b\nob:x"), std::string("@:x"), std::string("@a b:x"), std::string("@\xc3\xa9:x"),
                                std::string("@x\x7f:x"), std::string("@x\0y:x", 7)}) {
    auto id = UserId::parse(bad);
    ASSERT_FALSE(id) << bad;
    EXPECT_EQ(id.error(), IdError::bad_localpart) << bad;
  }
}

TEST(Ids, RoomIds) {
  ASSERT_TRUE(RoomId::parse("!abc:example.org"));
  EXPECT_EQ(RoomId::parse("!abc:example.org")->str(), "!abc:example.org");
  EXPECT_TRUE(RoomId::parse("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"));  // v12: no server name
  EXPECT_EQ(RoomId::parse("").error(), IdError::empty);
  EXPECT_EQ(RoomId::parse("#alias:x").error(), IdError::bad_sigil);
  EXPECT_EQ(RoomId::parse("!").error(), IdError::bad_localpart);
  EXPECT_EQ(RoomId::parse("!" + std::string(255, 'a')).error(), IdError::too_long);
  EXPECT_TRUE(RoomId::parse("!" + std::string(254, 'a')));
}

TEST(Ids, StrictLocalpartGrammar) {
  EXPECT_TRUE(is_valid_user_localpart("alice.b_c=d-e/f+g9"));
  EXPECT_FALSE(is_valid_user_localpart("Alice"));
  EXPECT_FALSE(is_valid_user_localpart(""));
  EXPECT_FALSE(is_valid_user_localpart("a b"));
  EXPECT_FALSE(is_valid_user_localpart("a:b"));
}

TEST(Ids, RoomAliases) {
  struct Case {
    std::string alias;
    bool valid;
  } cases[] = {
      {"#tea:localhost:8008", true},
      {"#a:b", true},
      {"#caf\xc3\xa9 au lait!:example.org", true},  // any Unicode but ':' and NUL in the localpart
      {"#a:b:c", false},                              // the server name is everything after the first ':'
      {"#:example.org", false},                       // an empty localpart
      {"#a:", false},
      {"#abc", false},
      {"tea:example.org", false},
      {"!tea:example.org", false},
      {"#a b:exa mple.org", false},
      {std::string("#a\0b:example.org", 16), false},
      {"#" + std::string(248, 'a') + ":b.org", true},  // 255 bytes
      {"#" + std::string(249, 'a') + ":b.org", false},
  };
  for (const auto& c : cases) EXPECT_EQ(is_room_alias(c.alias), c.valid) << c.alias;
}

}  // namespace herald
