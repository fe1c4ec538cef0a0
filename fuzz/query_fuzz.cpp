// The query string of an HTTP request target (the part after '?'), as http::parse_query decodes it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  herald::http::Request req;
  req.query = herald::http::parse_query(text);
  if (!req.query.empty()) {
    (void)req.query_param(req.query.front().first);
    (void)req.query_params(req.query.back().first);
  }
  (void)req.query_param("limit");
  return 0;
}
