#include "http/router.h"

#include "core/matrix_error.h"
#include "core/strings.h"

namespace herald::http {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

void Router::add(Method method, std::string_view path_template, Handler handler, std::optional<std::size_t> body_limit) {
  Route route{method, std::string(path_template), {}, std::move(handler), body_limit};
  for (std::string_view seg : split_path(path_template)) {
    const bool is_param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    route.segments.push_back({std::string(is_param ? seg.substr(1, seg.size() - 2) : seg), is_param});
  }
  const std::size_t n = route.segments.size();
  if (by_length_.size() <= n) by_length_.resize(n + 1);
  by_length_[n].push_back(std::move(route));
}

std::optional<std::size_t> Router::body_limit_for(Method method, std::string_view path) const {
  const std::vector<std::string_view> segments = split_path(path);
  if (segments.size() >= by_length_.size()) return std::nullopt;
  for (const Route& route : by_length_[segments.size()]) {
    if (route.method != method || !route.body_limit) continue;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      if (!route.segments[i].is_param && route.segments[i].text != segments[i]) ok = false;
    }
    if (ok) return route.body_limit;
  }
  return std::nullopt;
}

Router::Match Router::match(Request& req) const {
  const std::vector<std::string_view> segments = split_path(req.path);
  Match result;
  if (segments.size() >= by_length_.size()) return result;
  for (const Route& route : by_length_[segments.size()]) {
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      const Segment& s = route.segments[i];
      if (!s.is_param && s.text != segments[i]) ok = false;
    }
    if (!ok) continue;
    result.path_known = true;
    if (route.method != req.method && !(req.method == Method::head && route.method == Method::get)) continue;
    req.path_params.clear();
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const Segment& s = route.segments[i];
      if (!s.is_param) continue;
      auto decoded = strings::percent_decode(segments[i]);
      if (!decoded) throw MatrixError(Errc::invalid_param, "Malformed percent-encoding in path parameter " + s.text);
      req.path_params.emplace_back(s.text, std::move(*decoded));
    }
    req.route = route.path_template;
    result.handler = &route.handler;
    return result;
  }
  return result;
}

}  // namespace herald::http
