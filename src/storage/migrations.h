#pragma once
// Forward-only schema migrations, embedded at build time from migrations/<backend>/<schema>/NNNN_name.sql
// and tracked in schema_version; each applies in its own transaction. A schema is the set of tables of one
// kind of database: "homeserver" or "identity".
#include <string>
#include <string_view>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

struct Migration {
  std::string backend;
  std::string schema;
  int version;
  std::string name;
  std::string sql;
};

const std::vector<Migration>& embedded_migrations();
// Applies every migration not yet recorded in schema_version, in order; returns how many ran.
int apply_migrations(sql::Connection& conn, std::string_view schema);
int schema_version(sql::Connection& conn);

}  // namespace herald::storage
