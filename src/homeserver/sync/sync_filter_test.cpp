#include "homeserver/sync/sync_filter.h"

#include <gtest/gtest.h>

#include "core/matrix_error.h"

namespace herald::homeserver {
namespace {

nlohmann::json event(const char* type, const char* sender, nlohmann::json content = nlohmann::json::object()) {
  return {{"type", type}, {"sender", sender}, {"content", content}};
}

TEST(SyncFilter, GlobMatchesAnySequenceAtAnyPlace) {
  EXPECT_TRUE(glob_matches("m.room.*", "m.room.message"));
  EXPECT_TRUE(glob_matches("m.room.*", "m.room."));
  EXPECT_TRUE(glob_matches("*", ""));
  EXPECT_TRUE(glob_matches("m.*.message", "m.room.message"));
  EXPECT_TRUE(glob_matches("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(glob_matches("m.room.*", "m.roo"));
  EXPECT_FALSE(glob_matches("m.room.message", "m.room.messages"));
  EXPECT_FALSE(glob_matches("*a*b", "xxaxxbxc"));
}

TEST(SyncFilter, AbsentListsAllowEverythingEmptyTypesNothing) {
  const SyncFilter all = SyncFilter::parse(nlohmann::json::object());
  EXPECT_TRUE(all.presence.matches("m.presence", "@a:hs"));
  EXPECT_TRUE(all.room.timeline.matches(event("m.room.message", "@a:hs")));
  EXPECT_TRUE(all.room.allows_room("!r:hs"));
  const SyncFilter none = SyncFilter::parse({{"presence", {{"types", nlohmann::json::array()}}},
                                             {"room", {{"timeline", {{"types", nlohmann::json::array()}}}}}});
  EXPECT_FALSE(none.presence.matches("m.presence", "@a:hs"));
  EXPECT_FALSE(none.room.timeline.matches(event("m.room.message", "@a:hs")));
}

TEST(SyncFilter, NotListsWinOverLists) {
  const SyncFilter f = SyncFilter::parse(
      {{"room",
        {{"not_rooms", {"!b:hs"}},
         {"rooms", {"!a:hs", "!b:hs"}},
         {"timeline",
          {{"types", {"m.room.*"}}, {"not_types", {"m.room.member"}}, {"senders", {"@a:hs", "@b:hs"}},
           {"not_senders", {"@b:hs"}}, {"limit", 3}}}}}});
  EXPECT_TRUE(f.room.allows_room("!a:hs"));
  EXPECT_FALSE(f.room.allows_room("!b:hs"));
  EXPECT_FALSE(f.room.allows_room("!c:hs"));
  EXPECT_TRUE(f.room.timeline.matches(event("m.room.message", "@a:hs")));
  EXPECT_FALSE(f.room.timeline.matches(event("m.room.member", "@a:hs")));
  EXPECT_FALSE(f.room.timeline.matches(event("m.room.message", "@b:hs")));
  EXPECT_FALSE(f.room.timeline.matches(event("m.room.message", "@c:hs")));
  EXPECT_FALSE(f.room.timeline.matches(event("org.example", "@a:hs")));
  EXPECT_EQ(f.room.timeline.limit, 3);
}

TEST(SyncFilter, ContainsUrlAndLazyLoading) {
  const SyncFilter f = SyncFilter::parse(
      {{"room", {{"timeline", {{"contains_url", true}}}, {"state", {{"lazy_load_members", true}}}}}});
  EXPECT_TRUE(f.room.timeline.matches(event("m.room.message", "@a:hs", {{"url", "mxc://hs/x"}})));
  EXPECT_FALSE(f.room.timeline.matches(event("m.room.message", "@a:hs", {{"body", "x"}})));
  EXPECT_TRUE(f.room.state.lazy_load_members);
  EXPECT_FALSE(f.room.timeline.lazy_load_members);
  const SyncFilter without = SyncFilter::parse({{"room", {{"timeline", {{"contains_url", false}}}}}});
  EXPECT_TRUE(without.room.timeline.matches(event("m.room.message", "@a:hs", {{"body", "x"}})));
  EXPECT_FALSE(without.room.timeline.matches(event("m.room.message", "@a:hs", {{"url", "mxc://hs/x"}})));
}

TEST(SyncFilter, MalformedFieldsAreBadJson) {
  for (const char* text : {R"({"room": {"timeline": {"types": "m.room.message"}}})",
                           R"({"room": {"timeline": {"types": [1]}}})",
                           R"({"presence": {"senders": ["not-a-user"]}})",
                           R"({"room": {"rooms": ["#alias:hs"]}})",
                           R"({"room": {"timeline": {"limit": "10"}}})",
                           R"({"room": {"timeline": {"limit": 0}}})",
                           R"({"room": {"include_leave": "yes"}})",
                           R"({"room": []})",
                           R"({"event_format": "xml"})",
                           R"({"event_fields": [5]})"}) {
    try {
      SyncFilter::parse(nlohmann::json::parse(text));
      ADD_FAILURE() << "accepted " << text;
    } catch (const MatrixError& e) {
      EXPECT_EQ(e.errcode(), "M_BAD_JSON") << text;
    }
  }
}

}  // namespace
}  // namespace herald::homeserver
