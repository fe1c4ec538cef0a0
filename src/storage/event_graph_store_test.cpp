#include "storage/event_graph_store.h"

#include <gtest/gtest.h>

#include <functional>

#include "storage/database.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/run_task.h"

namespace herald::storage {
namespace graph = event_graph_store;

namespace {
class EventGraphStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.write_sync([](sql::Connection& c) {
      c.execute("INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) VALUES ('!r:hs', '12', '@a:hs', 0, 0)");
    });
  }
  herald::testing::TempDir dir_;
  Database db_{sqlite::connection_factory((dir_.path() / "db.sqlite").string())};
};

rooms::StateKey member(int i) { return {"m.room.member", "@u" + std::to_string(i) + ":hs"}; }
}  // namespace

TEST_F(EventGraphStoreTest, DeltaChainsReadBackExactlyAndAreCutBySnapshots) {
  db_.write_sync([](sql::Connection& c) {
    StateIds expected{{{"m.room.create", ""}, "$create"}};
    std::int64_t group = graph::add_state_group(c, "!r:hs", std::nullopt, expected);
    std::vector<std::int64_t> groups{group};
    int cached_reads = 0;
    for (int i = 0; i < 300; ++i) {
      const auto key = member(i % 150);  // half of them replace an earlier entry
      const bool adds = !expected.contains(key);
      // Every other event gives the state before it, as the room cache does, for a snapshot to start from.
      const StateIds before = expected;
      CachedState cached;
      if (i % 2 == 0) {
        cached = [&before, &cached_reads](const StateVisitor& visit) {
          ++cached_reads;
          for (const auto& [k, id] : before) visit(k, id);
        };
      }
      expected[key] = "$e" + std::to_string(i);
      group = graph::add_state_delta(c, "!r:hs", group, key, expected[key], adds, cached);
      groups.push_back(group);
      ASSERT_EQ(graph::state_of_group(c, group), expected) << i;
    }
    // Snapshots bound the chains: no group sits on more than max(64, size/4) deltas.
    const auto longest = c.query_one("SELECT MAX(chain_length) FROM state_groups")->get_int(0);
    EXPECT_LE(longest, 64);
    EXPECT_GE(c.query_one("SELECT COUNT(*) FROM state_groups WHERE prev_group IS NULL")->get_int(0), 4);
    EXPECT_GE(cached_reads, 1);  // some snapshot was written from the given state
    // A one-event delta is carried by its group: no entry rows beyond the snapshots'.
    EXPECT_EQ(c.query_one("SELECT COUNT(*) FROM state_group_entries e JOIN state_groups g USING (state_group) "
                          "WHERE g.prev_group IS NOT NULL")->get_int(0), 0);
    // An older group still reads as it was.
    const StateIds first = graph::state_of_group(c, groups[1]);
    EXPECT_EQ(first.size(), 2u);
    EXPECT_EQ(first.at(member(0)), "$e0");
  });
}

TEST_F(EventGraphStoreTest, AWriterThatKeepsChainPlacesAndCountsIdsWritesTheSameGroups) {
  db_.write_sync([](sql::Connection& c) {
    // The writer's way: each group's place in its chain carried to the next call, IDs from a count that
    // starts unknown (0) and is read once; snapshots (some of them 64+ entries) come from the given state.
    StateIds expected{{{"m.room.create", ""}, "$create"}};
    std::int64_t next_id = 0;
    StateGroupInfo info{graph::add_state_group(c, "!r:hs", std::nullopt, expected, &next_id), 0, 1};
    EXPECT_EQ(next_id, info.group + 1);
    for (int i = 0; i < 400; ++i) {
      const auto key = member(i % 200);
      const bool adds = !expected.contains(key);
      const StateIds before = expected;
      const CachedState cached = [&before](const StateVisitor& visit) {
        for (const auto& [k, id] : before) visit(k, id);
      };
      expected[key] = "$e" + std::to_string(i);
      const StateGroupInfo prev = info;
      info = graph::add_state_delta(c, "!r:hs", prev.group, &prev, key, expected[key], adds, cached, &next_id);
      ASSERT_EQ(info.group, next_id - 1) << i;
      ASSERT_EQ(graph::state_of_group(c, info.group), expected) << i;
      // What the writer keeps is what storage holds.
      ASSERT_EQ(graph::state_group_info(c, info.group)->chain_length, info.chain_length) << i;
      ASSERT_EQ(info.state_size, static_cast<std::int64_t>(expected.size())) << i;
    }
    EXPECT_EQ(c.query_one("SELECT MAX(state_group) + 1 FROM state_groups")->get_int(0), next_id);
    EXPECT_LE(c.query_one("SELECT MAX(chain_length) FROM state_groups")->get_int(0), 64);
    EXPECT_EQ(c.query_one("SELECT COUNT(*) FROM state_group_entries")->get_int(0),
              c.query_one("SELECT SUM(state_size) FROM state_groups WHERE prev_group IS NULL")->get_int(0));
  });
}

TEST_F(EventGraphStoreTest, AGroupMayDropKeysOfItsBase) {
  db_.write_sync([](sql::Connection& c) {
    StateIds base;
    for (int i = 0; i < 10; ++i) base[member(i)] = "$m" + std::to_string(i);
    const std::int64_t g1 = graph::add_state_group(c, "!r:hs", std::nullopt, base);
    StateIds resolved = base;
    resolved.erase(member(3));
    resolved[member(4)] = "$other";
    const std::int64_t g2 = graph::add_state_group(c, "!r:hs", g1, resolved);
    EXPECT_EQ(c.query_one("SELECT prev_group FROM state_groups WHERE state_group = $1", {g2})->get_int(0), g1);
    EXPECT_EQ(graph::state_of_group(c, g2), resolved);
    EXPECT_EQ(graph::state_of_group(c, g1), base);
    EXPECT_TRUE(graph::state_of_group(c, 0).empty());  // group 0: the empty state before a room's create event
  });
}

TEST_F(EventGraphStoreTest, ExtremitiesEdgesAndMissingPrevEvents) {
  db_.write_sync([](sql::Connection& c) {
    graph::update_forward_extremities(c, "!r:hs", {}, std::string("$a"));
    graph::update_forward_extremities(c, "!r:hs", {}, std::string("$b"));
    graph::update_forward_extremities(c, "!r:hs", {"$a", "$b"}, std::string("$c"));
    EXPECT_EQ(graph::forward_extremities(c, "!r:hs"), std::vector<std::string>{"$c"});
    // Edges come from the stored PDU: IDs from room version 3 on, [id, hashes] pairs before it.
    c.execute("INSERT INTO events (stream_ordering, event_id, room_id, type, sender, pdu) VALUES (7, '$c', '!r:hs', 't', "
              "'@a:hs', '{\"prev_events\":[\"$b\",\"$a\"],\"auth_events\":[\"$pl\",\"$create\"]}')");
    EXPECT_EQ(graph::prev_events(c, "$c"), (std::vector<std::string>{"$a", "$b"}));
    EXPECT_EQ(graph::auth_events(c, "$c"), (std::vector<std::string>{"$create", "$pl"}));
    graph::insert_outside(c, {"$v1", "!r:hs", OutsideStatus::outlier, std::nullopt,
                              R"({"prev_events":[["$p:hs",{"sha256":"x"}]],"auth_events":[["$c:hs",{"sha256":"y"}]]})",
                              std::nullopt},
                          1);
    EXPECT_EQ(graph::prev_events(c, "$v1"), std::vector<std::string>{"$p:hs"});
    EXPECT_EQ(graph::auth_events(c, "$v1"), std::vector<std::string>{"$c:hs"});
    EXPECT_TRUE(graph::prev_events(c, "$unknown").empty());
    graph::add_missing_prev(c, "!r:hs", "$gap", "$d");
    graph::add_missing_prev(c, "!r:hs", "$gap", "$e");
    EXPECT_EQ(graph::missing_prev_events(c, "!r:hs"), std::vector<std::string>{"$gap"});
    EXPECT_EQ(graph::take_referrers(c, "$gap"), (std::vector<std::string>{"$d", "$e"}));
    EXPECT_TRUE(graph::missing_prev_events(c, "!r:hs").empty());
    graph::insert_outside(c, {"$x", "!r:hs", OutsideStatus::rejected, std::string("no"), "{}", std::nullopt}, 1);
    EXPECT_TRUE(graph::is_known(c, "$x"));
    EXPECT_FALSE(graph::find_pdu(c, "$x"));  // a rejected event is never used as anything's auth or state
    EXPECT_EQ(graph::find_outside(c, "$x")->reason, "no");
  });
}

}  // namespace herald::storage
