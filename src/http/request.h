#pragma once
// A parsed HTTP request as handlers see it: plain data, no Beast.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::http {

enum class Method { get, post, put, delete_, options, head, other };
std::string_view name_of(Method m);

struct Request {
  Method method = Method::get;
  std::string path;  // raw (still percent-encoded), without the query string
  std::string target;  // path and query exactly as received (what X-Matrix signatures cover)
  std::vector<std::pair<std::string, std::string>> query;        // decoded
  std::vector<std::pair<std::string, std::string>> path_params;  // decoded, filled by the router
  std::string route;                                             // the matched path template
  std::string authorization;
  std::string body;
  std::string remote_address;
  std::string request_id;
  // The resources of the listener the request came in on (null: none configured).
  std::shared_ptr<const std::vector<std::string>> listener_resources;

  bool listener_serves(std::string_view resource) const;

  // The first value of a query parameter.
  std::optional<std::string> query_param(std::string_view name) const;
  std::vector<std::string> query_params(std::string_view name) const;
  // A path parameter by its template name; the router guarantees presence.
  const std::string& path_param(std::string_view name) const;
};

// Splits "a=1&b=x%20y" into decoded pairs; malformed escapes keep their raw text.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

}  // namespace herald::http
