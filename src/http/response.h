#pragma once
// What a handler answers: status, body and a few headers. The server adds CORS and Content-Length.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace herald {
class MatrixError;
}

namespace herald::http {

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(int status, const nlohmann::json& body);
  static Response error(const MatrixError& error);  // adds Retry-After to 429s
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response empty(int status);
};

}  // namespace herald::http
