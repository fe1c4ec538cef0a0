#pragma once
// The SQLite driver: WAL, synchronous=FULL (acknowledged means on disk), foreign keys, busy timeout,
// prepared statements cached by their SQL text.
#include <functional>
#include <memory>
#include <string>

#include "storage/sql/connection.h"

namespace herald::storage::sqlite {

std::unique_ptr<sql::Connection> open(const std::string& path, bool read_only);
// A factory for Database: the first connection it makes is the writer, the rest are readers.
std::function<std::unique_ptr<sql::Connection>(bool read_only)> connection_factory(std::string path);

}  // namespace herald::storage::sqlite
