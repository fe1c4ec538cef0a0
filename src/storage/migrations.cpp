#include "storage/migrations.h"

#include <chrono>
#include <set>

#include "core/log.h"
#include "storage/sql/connection.h"

namespace herald::storage {

int schema_version(sql::Connection& conn) {
  conn.execute_script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, name TEXT NOT NULL, applied_ts BIGINT NOT NULL)");
  auto row = conn.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  return row ? static_cast<int>(row->get_int(0)) : 0;
}

int apply_migrations(sql::Connection& conn, std::string_view schema) {
  schema_version(conn);  // creates the table
  // Every migration not applied yet, not only those above the highest applied: migrations written on
  // parallel branches may land with lower numbers than one already applied.
  std::set<std::int64_t> done;
  for (const auto& r : conn.query("SELECT version FROM schema_version")) done.insert(r.get_int(0));
  int applied = 0;
  for (const Migration& m : embedded_migrations()) {
    if (m.backend != conn.backend() || m.schema != schema || done.contains(m.version)) continue;
    conn.execute_script("BEGIN");
    try {
      conn.execute_script(m.sql);
      const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
      conn.execute("INSERT INTO schema_version (version, name, applied_ts) VALUES ($1, $2, $3)",
                   {std::int64_t{m.version}, m.name, std::int64_t{now_s}});
      conn.execute_script("COMMIT");
    } catch (...) {
      conn.execute_script("ROLLBACK");
      throw;
    }
    log::info("migration applied schema={} version={} name={}", m.schema, m.version, m.name);
    ++applied;
  }
  return applied;
}

}  // namespace herald::storage
