#include "http/request.h"

#include <stdexcept>

#include "core/strings.h"

namespace herald::http {

std::string_view name_of(Method m) {
  switch (m) {
    case Method::get: return "GET";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::delete_: return "DELETE";
    case Method::options: return "OPTIONS";
    case Method::head: return "HEAD";
    case Method::other: return "OTHER";
  }
  return "OTHER";
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return std::nullopt;
}

std::vector<std::string> Request::query_params(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query)
    if (k == name) out.push_back(v);
  return out;
}

const std::string& Request::path_param(std::string_view name) const {
  for (const auto& [k, v] : path_params)
    if (k == name) return v;
  throw std::logic_error("route has no path parameter " + std::string(name));
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    const std::string_view k = part.substr(0, eq);
    const std::string_view v = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    out.emplace_back(strings::percent_decode(k, true).value_or(std::string(k)),
                     strings::percent_decode(v, true).value_or(std::string(v)));
  }
  return out;
}

bool Request::listener_serves(std::string_view resource) const {
  if (!listener_resources) return false;
  for (const auto& r : *listener_resources)
    if (r == resource) return true;
  return false;
}

}  // namespace herald::http
