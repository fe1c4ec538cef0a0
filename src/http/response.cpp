#include "http/response.h"

#include <nlohmann/json.hpp>

#include "core/matrix_error.h"

namespace herald::http {

Response Response::json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::error(const MatrixError& error) {
  Response r;
  r.status = error.http_status();
  r.body = error.body();
  if (error.errc() == Errc::limit_exceeded) {
    for (const auto& [key, value] : error.extra_json()) {
      if (key == "retry_after_ms") {
        const long long ms = std::stoll(value);
        r.headers.emplace_back("Retry-After", std::to_string((ms + 999) / 1000));
      }
    }
  }
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  r.content_type.clear();
  return r;
}

}  // namespace herald::http
