// The pure rules behind the federation endpoints: server ACLs, history visibility for servers, and the
// walks of get_missing_events and backfill.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "rooms/event_walk.h"
#include "rooms/history_visibility.h"
#include "rooms/server_acl.h"

namespace herald::rooms {
namespace {

TEST(ServerGlob, StarAndQuestionMarkCaseInsensitive) {
  struct Case {
    const char* pattern;
    const char* text;
    bool matches;
  } cases[] = {
      {"*", "anything.example", true},
      {"*", "", true},
      {"example.org", "example.org", true},
      {"example.org", "EXAMPLE.org", true},  // v1.19: case-insensitive
      {"*.example.org", "matrix.example.org", true},
      {"*.example.org", "example.org", false},  // the dot is literal
      {"?.example.org", "a.example.org", true},
      {"?.example.org", "ab.example.org", false},
      {"evil*", "evil.com", true},
      {"evil*", "notevil.com", false},
      {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "aXXbYY", false},
      {"**", "x", true},
      {"", "", true},
      {"", "x", false},
  };
  for (const auto& c : cases) EXPECT_EQ(server_glob_matches(c.pattern, c.text), c.matches) << c.pattern << " vs " << c.text;
}

TEST(ServerAcl, DenyWinsOverAllowAndUnlistedServersAreRefused) {
  const nlohmann::json acl = {{"allow", {"*"}}, {"deny", {"evil.example", "*.evil.example"}}};
  EXPECT_TRUE(server_acl_allows(acl, "good.example"));
  EXPECT_FALSE(server_acl_allows(acl, "evil.example"));
  EXPECT_FALSE(server_acl_allows(acl, "sub.evil.example"));
  EXPECT_FALSE(server_acl_allows(acl, "EVIL.example"));
  EXPECT_FALSE(server_acl_allows(acl, "evil.example:8448")) << "the port is not part of the match";

  const nlohmann::json only = {{"allow", {"friends.example"}}};
  EXPECT_TRUE(server_acl_allows(only, "friends.example"));
  EXPECT_FALSE(server_acl_allows(only, "stranger.example")) << "not allowed means denied";
  EXPECT_FALSE(server_acl_allows(nlohmann::json::object(), "anyone.example")) << "no allow list allows nobody";
  EXPECT_TRUE(server_acl_allows(nullptr, "anyone.example")) << "no ACL allows everyone";
}

TEST(ServerAcl, IpLiteralsOnlyWhenAllowed) {
  nlohmann::json acl = {{"allow", {"*"}}, {"allow_ip_literals", false}};
  EXPECT_FALSE(server_acl_allows(acl, "1.2.3.4"));
  EXPECT_FALSE(server_acl_allows(acl, "1.2.3.4:8448"));
  EXPECT_FALSE(server_acl_allows(acl, "[::1]:8448"));
  EXPECT_FALSE(server_acl_allows(acl, "[2001:db8::1]"));
  EXPECT_TRUE(server_acl_allows(acl, "1.2.3.4.example")) << "a name made of digits and dots is not an address";
  acl["allow_ip_literals"] = true;
  EXPECT_TRUE(server_acl_allows(acl, "1.2.3.4"));
  acl.erase("allow_ip_literals");
  EXPECT_TRUE(server_acl_allows(acl, "[::1]")) << "allow_ip_literals defaults to true";
}

TEST(ServerAcl, EntriesThatAreNotStringsAreIgnored) {
  const nlohmann::json acl = {{"allow", {1, nullptr, "ok.example"}}, {"deny", "not-a-list"}};
  EXPECT_TRUE(server_acl_allows(acl, "ok.example"));
  EXPECT_FALSE(server_acl_allows(acl, "other.example"));
}

TEST(ServerVisibility, FollowsTheRoomsHistoryVisibility) {
  struct Case {
    const char* visibility;
    std::vector<std::string> memberships;
    bool in_room_now;
    bool visible;
  } cases[] = {
      {"world_readable", {}, false, true},         // everyone
      {"shared", {}, true, true},                  // a server in the room now sees shared history
      {"shared", {}, false, false},                // a server never (or no longer) in it does not
      {"shared", {"join"}, false, true},           // one of its users was joined at the event
      {"invited", {"invite"}, false, true},        // invited at the event
      {"invited", {"leave"}, true, false},         // in the room now, not then
      {"joined", {"join", "leave"}, false, true},  // one of several users joined at the event
      {"joined", {"invite"}, true, false},         // invited is not enough for joined
      {"joined", {}, true, false},
      {"bogus", {}, true, true},                   // unknown values count as shared
  };
  for (const auto& c : cases)
    EXPECT_EQ(server_may_see(c.visibility, c.memberships, c.in_room_now), c.visible) << c.visibility;
}

// A graph as a map: id -> (depth, prev_events).
WalkLookup lookup_in(const std::map<std::string, WalkNode>& graph) {
  return [&graph](const std::string& id) -> std::optional<WalkNode> {
    auto it = graph.find(id);
    if (it == graph.end()) return std::nullopt;
    return it->second;
  };
}

//   A(1) <- B(2) <- C(3) <- D(4) <- F(5)
//                  \<- E(3) <---------/
const std::map<std::string, WalkNode> kDiamond = {
    {"A", {1, {}}}, {"B", {2, {"A"}}}, {"C", {3, {"B"}}}, {"E", {3, {"B"}}}, {"D", {4, {"C"}}}, {"F", {5, {"D", "E"}}}};

TEST(MissingEventsWalk, BreadthFirstFromLatestStoppingAtEarliest) {
  const auto lookup = lookup_in(kDiamond);
  EXPECT_EQ(missing_events_walk({"B"}, {"F"}, 10, 0, lookup), (std::vector<std::string>{"E", "C", "D"}))
      << "between B (known) and F: C, D, E, oldest first (equal depths in walk order), not B nor F";
  EXPECT_EQ(missing_events_walk({"A"}, {"F"}, 10, 0, lookup), (std::vector<std::string>{"B", "E", "C", "D"}));
  EXPECT_EQ(missing_events_walk({}, {"F"}, 2, 0, lookup), (std::vector<std::string>{"E", "D"}))
      << "the limit keeps the events nearest the latest";
  EXPECT_EQ(missing_events_walk({}, {"F"}, 10, 3, lookup), (std::vector<std::string>{"E", "C", "D"}))
      << "min_depth stops the walk";
  EXPECT_TRUE(missing_events_walk({"F"}, {"F"}, 10, 0, lookup).empty()) << "latest already known";
  EXPECT_TRUE(missing_events_walk({}, {"unknown"}, 10, 0, lookup).empty());
}

TEST(MissingEventsWalk, UnknownPrevEventsAreSkipped) {
  const std::map<std::string, WalkNode> graph = {{"X", {5, {"gone", "Y"}}}, {"Y", {4, {}}}};
  EXPECT_EQ(missing_events_walk({}, {"X"}, 10, 0, lookup_in(graph)), (std::vector<std::string>{"Y"}));
}

TEST(BackfillWalk, IncludesTheStartingEventsNewestFirst) {
  const auto lookup = lookup_in(kDiamond);
  EXPECT_EQ(backfill_walk({"F"}, 3, lookup), (std::vector<std::string>{"F", "D", "E"}));
  EXPECT_EQ(backfill_walk({"F"}, 100, lookup), (std::vector<std::string>{"F", "D", "E", "C", "B", "A"}));
  EXPECT_EQ(backfill_walk({"C", "E"}, 100, lookup), (std::vector<std::string>{"C", "E", "B", "A"}));
  EXPECT_TRUE(backfill_walk({"nope"}, 10, lookup).empty());
}

}  // namespace
}  // namespace herald::rooms
