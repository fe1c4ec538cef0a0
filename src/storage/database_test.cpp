#include "storage/database.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include "storage/event_graph_store.h"
#include "storage/migrations.h"
#include "storage/room_store.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/run_task.h"

namespace herald::storage {
using testing::run_task;
using testing::TempDir;

namespace {
// A coroutine with its inputs as parameters (a capturing lambda would dangle once the loop moves on).
Task<void> insert_or_fail(Database& db, int& failures, int i) {
  try {
    co_await db.write([i](sql::Connection& c) {
      c.execute("INSERT INTO t (x) VALUES ($1)", {std::int64_t{i}});
      if (i % 5 == 0) throw std::runtime_error("refused");
    });
  } catch (const std::runtime_error&) {
    ++failures;
  }
}

Task<std::int64_t> count_rows(Database& db) {
  auto n = co_await db.read([](sql::Connection& c) { return c.query_one("SELECT COUNT(*) FROM t")->get_int(0); });
  co_return n;
}
}  // namespace

TEST(Database, MigratesAndWritesDurably) {
  TempDir dir;
  const std::string path = (dir.path() / "db.sqlite").string();
  {
    Database db(sqlite::connection_factory(path));
    db.write_sync([](sql::Connection& c) { c.execute_script("CREATE TABLE t (x INTEGER)"); });
    run_task([&]() -> Task<void> {
      co_await db.write([](sql::Connection& c) { c.execute("INSERT INTO t (x) VALUES ($1)", {std::int64_t{7}}); });
      EXPECT_EQ(co_await count_rows(db), 1);
    }());
  }
  Database reopened(sqlite::connection_factory(path));
  EXPECT_EQ(run_task(count_rows(reopened)), 1);
  reopened.read_sync([](sql::Connection& c) { EXPECT_GE(schema_version(c), 1); });
}

TEST(Database, FailedJobRollsBackOnlyItself) {
  TempDir dir;
  Database db(sqlite::connection_factory((dir.path() / "db.sqlite").string()));
  db.write_sync([](sql::Connection& c) { c.execute_script("CREATE TABLE t (x INTEGER)"); });
  boost::asio::io_context io;
  int failures = 0;
  // Many concurrent writers land in the same group commit; the failing ones must not take others down.
  for (int i = 0; i < 50; ++i) {
    boost::asio::co_spawn(io, insert_or_fail(db, failures, i), boost::asio::detached);
  }
  io.run();
  EXPECT_EQ(failures, 10);
  EXPECT_EQ(run_task(count_rows(db)), 40);
}

TEST(Database, ExceptionsReachTheCaller) {
  TempDir dir;
  Database db(sqlite::connection_factory((dir.path() / "db.sqlite").string()));
  EXPECT_THROW(run_task(db.write([](sql::Connection& c) { c.execute("SELECT * FROM no_such_table"); })),
               std::runtime_error);
  EXPECT_THROW(run_task(db.read([](sql::Connection& c) { c.execute("SELECT * FROM no_such_table"); })),
               std::runtime_error);
}

TEST(Database, BulkReadsCannotStarveInteractiveOnes) {
  TempDir dir;
  Database db(sqlite::connection_factory((dir.path() / "db.sqlite").string()), 1);
  db.write_sync([](sql::Connection& c) { c.execute_script("CREATE TABLE t (x INTEGER)"); });
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> bulk_done{0};
  // Two long bulk reads (the first holds its thread until released; the second queues behind it) ...
  boost::asio::io_context io;
  for (int i = 0; i < 2; ++i) {
    boost::asio::co_spawn(io, db.read([released, &bulk_done](sql::Connection& c) {
                                c.query_one("SELECT COUNT(*) FROM t");
                                released.wait();
                                ++bulk_done;
                              }, Database::ReadKind::bulk),
                          boost::asio::detached);
  }
  std::thread background([&io] { io.run(); });
  // ... and the one interactive reader thread still answers at once.
  EXPECT_EQ(run_task(count_rows(db)), 0);
  EXPECT_EQ(bulk_done.load(), 0);
  release.set_value();
  background.join();
  EXPECT_EQ(bulk_done.load(), 2);
}

TEST(Migrations, Version5KeepsEveryRoomsCurrentStateAndMemberships) {
  // A database written by schema 4 (member state in both current_state and memberships) upgrades in place.
  TempDir dir;
  const std::string path = (dir.path() / "db.sqlite").string();
  {
    auto c = sqlite::open(path, false);
    schema_version(*c);
    for (const auto& m : embedded_migrations()) {
      if (m.backend != "sqlite" || m.schema != "homeserver" || m.version > 4) continue;
      c->execute_script(m.sql);
      c->execute("INSERT INTO schema_version (version, name, applied_ts) VALUES ($1, $2, 0)", {std::int64_t{m.version}, m.name});
    }
    c->execute_script(
        "INSERT INTO rooms VALUES ('!r:hs', '12', '@a:hs', 0, 0);"
        "INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, membership, pdu) VALUES"
        " (1, '$create', '!r:hs', 'm.room.create', '', '@a:hs', NULL, '{}'),"
        " (2, '$join', '!r:hs', 'm.room.member', '@a:hs', '@a:hs', 'join', '{}');"
        "INSERT INTO current_state VALUES ('!r:hs', 'm.room.create', '', '$create'), ('!r:hs', 'm.room.member', '@a:hs', '$join');"
        "INSERT INTO memberships VALUES ('!r:hs', '@a:hs', 'join', '$join', 2, 0);");
  }
  Database db(sqlite::connection_factory(path));
  db.read_sync([](sql::Connection& c) {
    EXPECT_GE(schema_version(c), 5);
    std::vector<std::string> state;
    for (const auto& e : room_store::current_state(c, "!r:hs")) state.push_back(e.event_id);
    EXPECT_EQ(state, (std::vector<std::string>{"$create", "$join"}));  // each once
    EXPECT_EQ(room_store::membership(c, "!r:hs", "@a:hs")->membership, "join");
    EXPECT_EQ(room_store::memberships_of(c, "@a:hs").size(), 1u);
  });
}

TEST(Migrations, EveryBackendHasTheSameNumbersPerSchema) {
  std::map<std::string, std::map<std::string, std::vector<int>>> by_schema;  // schema -> backend -> versions
  for (const auto& m : embedded_migrations()) by_schema[m.schema][m.backend].push_back(m.version);
  ASSERT_FALSE(by_schema["homeserver"]["sqlite"].empty());
  ASSERT_FALSE(by_schema["identity"]["sqlite"].empty());
  for (const auto& [schema, by_backend] : by_schema) {
    for (const auto& [backend, versions] : by_backend) {
      std::vector<int> expected;
      for (std::size_t i = 0; i < versions.size(); ++i) expected.push_back(static_cast<int>(i + 1));
      EXPECT_EQ(versions, expected) << schema << " " << backend;
      EXPECT_EQ(versions, by_backend.at("sqlite")) << schema << " " << backend;
    }
  }
}

namespace {
// A homeserver database with the migrations up to `last` applied, as an older Herald left it.
std::unique_ptr<sql::Connection> open_at_version(const std::string& path, int last) {
  auto c = sqlite::open(path, false);
  schema_version(*c);
  for (const auto& m : embedded_migrations()) {
    if (m.backend != "sqlite" || m.schema != "homeserver" || m.version > last) continue;
    c->execute_script(m.sql);
    c->execute("INSERT INTO schema_version (version, name, applied_ts) VALUES ($1, $2, 0)", {std::int64_t{m.version}, m.name});
  }
  return c;
}
}  // namespace

TEST(Migrations, AppliesAMissingMigrationBelowTheHighestApplied) {
  // Migrations written on parallel branches can land with a lower number than one already applied.
  TempDir dir;
  const std::string path = (dir.path() / "db.sqlite").string();
  open_at_version(path, 9)->execute("INSERT INTO schema_version (version, name, applied_ts) VALUES (90, 'later', 0)");
  Database db(sqlite::connection_factory(path));
  db.read_sync([](sql::Connection& c) {
    EXPECT_TRUE(c.query_one("SELECT 1 FROM schema_version WHERE version = 10").has_value());
    EXPECT_NO_THROW(c.query("SELECT delta_type, delta_state_key FROM state_groups"));
  });
}

TEST(Migrations, StateGroupsWrittenBeforeInlineDeltasStillReadBack) {
  // Schema 9 wrote a one-event delta as a state_group_entries row; schema 10 carries it in the group.
  TempDir dir;
  const std::string path = (dir.path() / "db.sqlite").string();
  open_at_version(path, 9)->execute_script(
      "INSERT INTO state_groups VALUES (1, '!r:hs', NULL, NULL, 0, 2), (2, '!r:hs', 1, '$topic2', 1, 2);"
      "INSERT INTO state_group_entries VALUES (1, 'm.room.create', '', '$create'), (1, 'm.room.topic', '', '$topic1'),"
      " (2, 'm.room.topic', '', '$topic2');");
  Database db(sqlite::connection_factory(path));
  db.write_sync([](sql::Connection& c) {
    namespace graph = event_graph_store;
    const std::int64_t g3 = graph::add_state_delta(c, "!r:hs", 2, {"m.room.name", ""}, "$name", true);
    const std::int64_t g4 = graph::add_state_delta(c, "!r:hs", g3, {"m.room.topic", ""}, "$topic3", false);
    EXPECT_EQ(c.query_one("SELECT COUNT(*) FROM state_group_entries WHERE state_group IN ($1, $2)", {g3, g4})->get_int(0), 0);
    const StateIds expected{{{"m.room.create", ""}, "$create"}, {{"m.room.name", ""}, "$name"}, {{"m.room.topic", ""}, "$topic3"}};
    EXPECT_EQ(graph::state_of_group(c, g4), expected);
    const StateIds at2{{{"m.room.create", ""}, "$create"}, {{"m.room.topic", ""}, "$topic2"}};
    EXPECT_EQ(graph::state_of_group(c, 2), at2);
  });
}

}  // namespace herald::storage
