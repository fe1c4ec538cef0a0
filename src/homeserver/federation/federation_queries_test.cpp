#include "homeserver/federation/federation_queries.h"

#include <gtest/gtest.h>

namespace herald::homeserver::federation_queries {
namespace {

TEST(ProfileAnswer, KeepsStringFieldsAndOthers) {
  const nlohmann::json answer = {{"displayname", "Bob"}, {"avatar_url", "mxc://there/a"}, {"m.tz", "Europe/Paris"}};
  EXPECT_EQ(profile_from_answer(answer, std::nullopt), answer);
}

TEST(ProfileAnswer, DropsUnsetAndMistypedFields) {
  const nlohmann::json answer = {{"displayname", nullptr}, {"avatar_url", 5}};
  EXPECT_EQ(profile_from_answer(answer, std::nullopt), nlohmann::json::object());
  const nlohmann::json named = {{"displayname", {{"nested", true}}}, {"avatar_url", "mxc://there/a"}};
  EXPECT_EQ(profile_from_answer(named, std::nullopt), (nlohmann::json{{"avatar_url", "mxc://there/a"}}));
}

TEST(ProfileAnswer, OneFieldOnlyAndMissingIsNotFound) {
  const nlohmann::json answer = {{"displayname", "Bob"}, {"avatar_url", "mxc://there/a"}};
  EXPECT_EQ(profile_from_answer(answer, "displayname"), (nlohmann::json{{"displayname", "Bob"}}));
  EXPECT_EQ(profile_from_answer({{"displayname", "Bob"}}, "avatar_url"), std::nullopt);
  EXPECT_EQ(profile_from_answer({{"displayname", nullptr}}, "displayname"), std::nullopt);
  EXPECT_EQ(profile_from_answer({{"displayname", 3}}, "displayname"), std::nullopt);
}

TEST(ProfileAnswer, RefusesWhatIsNotAnObject) {
  EXPECT_THROW(profile_from_answer(nlohmann::json::array(), std::nullopt), std::runtime_error);
  EXPECT_THROW(profile_from_answer("Bob", "displayname"), std::runtime_error);
}

TEST(AliasAnswer, RoomAndServersInOrder) {
  const ResolvedAlias r = alias_from_answer({{"room_id", "!r:there"}, {"servers", {"there", "b.example:8448", "[::1]:9"}}}, "there");
  EXPECT_EQ(r.room_id.str(), "!r:there");
  EXPECT_EQ(r.servers, (std::vector<std::string>{"there", "b.example:8448", "[::1]:9"}));
}

TEST(AliasAnswer, DropsInvalidAndRepeatedServers) {
  const ResolvedAlias r =
      alias_from_answer({{"room_id", "!r"}, {"servers", {"b.example", 7, "bad host", "", "b.example", nullptr, "c.example"}}},
                        "there");
  EXPECT_EQ(r.servers, (std::vector<std::string>{"b.example", "c.example"}));
}

TEST(AliasAnswer, NoUsableServerMeansTheAliasServer) {
  EXPECT_EQ(alias_from_answer({{"room_id", "!r"}}, "there").servers, std::vector<std::string>{"there"});
  EXPECT_EQ(alias_from_answer({{"room_id", "!r"}, {"servers", "there"}}, "there").servers, std::vector<std::string>{"there"});
  EXPECT_EQ(alias_from_answer({{"room_id", "!r"}, {"servers", {"not valid"}}}, "there").servers,
            std::vector<std::string>{"there"});
}

TEST(AliasAnswer, CapsTheServerList) {
  nlohmann::json servers = nlohmann::json::array();
  for (int i = 0; i < 200; ++i) servers.push_back("s" + std::to_string(i) + ".example");
  EXPECT_EQ(alias_from_answer({{"room_id", "!r"}, {"servers", servers}}, "there").servers.size(), kMaxServers);
}

TEST(AliasAnswer, RefusesAMissingOrBadRoomId) {
  EXPECT_THROW(alias_from_answer({{"servers", {"there"}}}, "there"), std::runtime_error);
  EXPECT_THROW(alias_from_answer({{"room_id", 5}}, "there"), std::runtime_error);
  EXPECT_THROW(alias_from_answer({{"room_id", "#not-a-room:there"}}, "there"), std::runtime_error);
  EXPECT_THROW(alias_from_answer(nlohmann::json::array(), "there"), std::runtime_error);
}

}  // namespace
}  // namespace herald::homeserver::federation_queries
