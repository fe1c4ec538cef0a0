#pragma once
// Routing by method + path template ("/_matrix/client/v3/rooms/{roomId}/invite"), with each path
// segment percent-decoded after splitting on '/'.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.h"
#include "http/request.h"
#include "http/response.h"

namespace herald::http {

using Handler = std::function<Task<Response>(Request)>;

class Router {
 public:
  // `body_limit`: the largest request body this route takes, when it differs from the server's.
  void add(Method method, std::string_view path_template, Handler handler,
           std::optional<std::size_t> body_limit = std::nullopt);
  // The body limit of the route `method` + `path` (raw, before percent-decoding) names, if it has its own.
  std::optional<std::size_t> body_limit_for(Method method, std::string_view path) const;

  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method
    bool path_known = false;           // some route matched the path (so a null handler means 405)
  };
  // Fills req.path_params and req.route on success. Throws MatrixError(M_INVALID_PARAM) for a path
  // segment with a malformed percent-escape.
  Match match(Request& req) const;

 private:
  struct Segment {
    std::string text;
    bool is_param;
  };
  struct Route {
    Method method;
    std::string path_template;
    std::vector<Segment> segments;
    Handler handler;
    std::optional<std::size_t> body_limit;
  };
  std::vector<std::vector<Route>> by_length_;  // routes indexed by number of segments
};

std::vector<std::string_view> split_path(std::string_view path);

}  // namespace herald::http
